// Package open311 serves Open311 GeoReport v2 under /open311/v2/, the open standard through
// which third-party reporting apps (FixMyStreet and others) file and follow service requests:
// discovery, the service list (the taxonomy's categories), service definitions, POST and GET
// requests, GET requests/{id}, and mySociety's servicerequestupdates extension, each in XML and
// JSON chosen by the path's extension.
//
// It is a surface like the REST API: it parses and checks the request, calls the application
// core (the same intake.Submitter every channel calls) and writes the answer in the spec's
// format; errors are the spec's error list with 400, 403 or 404, and beyond the spec 405 for a
// wrong method, 429 past the API key's rate and 503 when the store cannot commit (so that the
// client retries). A POST creates a case on channel open311 under
// "open311:<API key name>"; the same API key, description and location within the duplicate
// window return the request already filed instead of a second case.
//
// Requests filed through other channels are never shown here: a case is readable through
// Open311 only when it came in through it.
package open311

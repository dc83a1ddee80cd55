package open311

// WithoutAPIKey exposes withoutAPIKey to the tests.
var WithoutAPIKey = withoutAPIKey

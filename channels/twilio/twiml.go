package twilio

import (
	"github.com/twilio/twilio-go/twiml"
)

// TwiMLContentType is the media type of a TwiML answer.
const TwiMLContentType = "text/xml; charset=utf-8"

// EmptyTwiML says nothing: Twilio sends no reply. (An empty HTTP body is not the same: Twilio
// logs error 11200 for it.)
const EmptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response/>`

// TwiML renders the messaging answer: one <Message> with text, XML-escaped, or EmptyTwiML when
// text is empty. Characters XML 1.0 cannot carry are replaced by U+FFFD.
func TwiML(text string) (string, error) {
	if text == "" {
		return EmptyTwiML, nil
	}
	return twiml.Messages([]twiml.Element{twiml.MessagingMessage{Body: text}})
}

package phone

import (
	"strings"

	intake "github.com/hotline12345/intake-gateway"
)

// speakerLabels are the labels call-centre exports put before a turn (plain text) or in a
// WebVTT voice tag. Anything else is refused rather than guessed: a transcript whose turns are
// attributed wrongly would describe the case by the agent's words.
var speakerLabels = map[string]intake.Speaker{
	"坐席":     intake.SpeakerAgent,
	"客服":     intake.SpeakerAgent,
	"话务员":    intake.SpeakerAgent,
	"接线员":    intake.SpeakerAgent,
	"agent":  intake.SpeakerAgent,
	"市民":     intake.SpeakerCaller,
	"来电人":    intake.SpeakerCaller,
	"来电者":    intake.SpeakerCaller,
	"caller": intake.SpeakerCaller,
}

// Labels lists the accepted speaker labels (for documentation and error messages).
func Labels() []string {
	return []string{"坐席", "客服", "话务员", "接线员", "agent", "市民", "来电人", "来电者", "caller"}
}

// speakerFor maps a label (case-insensitive for the ASCII ones) to its speaker.
func speakerFor(label string) (intake.Speaker, bool) {
	s, ok := speakerLabels[strings.ToLower(strings.TrimSpace(label))]
	return s, ok
}

package hottopics_test

import (
	"fmt"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/hottopics"
)

// BenchmarkPlan measures one clustering run over max_cases (5000) recent cases: spread over 20
// districts (each with a burst and unrelated complaints), and all in one district, the worst case
// for the pairwise comparisons (each case against its 500 predecessors).
func BenchmarkPlan(b *testing.B) {
	for _, districts := range []int{20, 1} {
		cases := make([]intake.TopicCase, 5000)
		for i := range cases {
			text := waterCut(i)
			if i%3 == 0 {
				text = unlike[i%len(unlike)] + fmt.Sprint(i)
			}
			cases[i] = topicCase(fmt.Sprint(i), now.Add(-2*time.Hour).Add(time.Duration(i)*time.Second), fmt.Sprintf("区%d", i%districts), text)
		}
		b.Run(fmt.Sprintf("districts=%d", districts), func(b *testing.B) {
			for b.Loop() {
				hottopics.Plan(cases, nil, now.Add(time.Minute), opts())
			}
		})
	}
}

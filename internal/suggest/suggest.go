// Package suggest finds the name an operator most likely meant when they wrote one that does not
// exist: the nearest known name by edit distance, when it is near enough to be a typo.
package suggest

// Nearest returns the candidate closest to name, or "" when none is a plausible typo of it
// (about a third of the name's length: 1 to 3 edits).
func Nearest(name string, candidates []string) string {
	best, bestDist := "", 1<<30
	for _, c := range candidates {
		if d := Distance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist > max(1, min(3, (len(name)+2)/3)) {
		return ""
	}
	return best
}

// Distance is the optimal-string-alignment distance between a and b, in bytes (names are
// ASCII): insertions, deletions, substitutions and swaps of neighbours each count one, since a
// swapped pair ("rtae") is the commonest typo.
func Distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

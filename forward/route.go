package forward

import (
	"slices"

	intake "github.com/hotline12345/intake-gateway"
)

// Router picks the case system a new case is forwarded to.
type Router struct {
	routes   []Route
	fallback string
}

// NewRouter uses the configured routes; cases no route claims go to the case system named
// "default", or to the first one configured.
func NewRouter(fw Options, systems []CaseSystem) *Router {
	r := &Router{routes: fw.Routes}
	for _, cs := range systems {
		if cs.Name == "default" {
			r.fallback = "default"
		}
	}
	if r.fallback == "" && len(systems) > 0 {
		r.fallback = systems[0].Name
	}
	return r
}

// Route returns the case system for c.
func (r *Router) Route(c *intake.Case) string {
	district := ""
	if c.Location != nil {
		district = c.Location.District
	}
	for _, rt := range r.routes {
		if matches(rt.Categories, c.Classification.Category) && matches(rt.Districts, district) && matches(rt.Channels, string(c.Channel)) {
			return rt.Target
		}
	}
	return r.fallback
}

func matches(list []string, v string) bool {
	return len(list) == 0 || slices.Contains(list, v)
}

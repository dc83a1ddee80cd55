package normalize

import (
	"errors"
	"fmt"
	"strings"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// Calendar says which days are working days, in one time zone: weekends and public holidays are
// not, make-up working days (调休) are. It is immutable and safe for concurrent use.
type Calendar struct {
	loc           *time.Location
	weekend       [7]bool
	holidays      map[civilDate]string
	workdays      map[civilDate]string
	coversThrough civilDate
}

type civilDate struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

func (d civilDate) at(loc *time.Location, clock time.Duration) time.Time {
	return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, loc).Add(clock)
}

func (d civilDate) next() civilDate {
	return dateOf(time.Date(d.y, d.m, d.d+1, 12, 0, 0, 0, time.UTC))
}

func (d civilDate) after(o civilDate) bool {
	return d.y > o.y || d.y == o.y && (d.m > o.m || d.m == o.m && d.d > o.d)
}

func (d civilDate) weekday() time.Weekday {
	return time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC).Weekday()
}

// calendarFile is configs/holidays.yaml.
type calendarFile struct {
	Version       int           `yaml:"version"`
	Timezone      string        `yaml:"timezone"`
	Weekend       []string      `yaml:"weekend"`
	CoversThrough string        `yaml:"covers_through"`
	Holidays      []holidaySpan `yaml:"holidays"`
	Workdays      []namedDate   `yaml:"workdays"`
}

type holidaySpan struct {
	Name string `yaml:"name"`
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

type namedDate struct {
	Name string `yaml:"name"`
	Date string `yaml:"date"`
}

// chinaZone is China Standard Time. China has kept UTC+8 without daylight saving since 1991, so a
// fixed zone is exact for any date a case can have, and needs no tz database (no I/O).
var chinaZone = time.FixedZone("CST", 8*3600)

// LoadCalendar parses configs/holidays.yaml. The zone is the file's `timezone`: Asia/Shanghai
// (and its aliases PRC, Asia/Chongqing, Asia/Harbin) or a fixed offset like "+08:00"; a caller
// that needs another IANA zone loads it itself and passes it as loc, which then overrides the
// file. Errors name the YAML key.
func LoadCalendar(data []byte, loc *time.Location) (*Calendar, error) {
	var f calendarFile
	if err := decodeStrict("holidays.yaml", data, &f); err != nil {
		return nil, err
	}
	const file = "holidays.yaml"
	var errs []error
	bad := func(key, msg string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", file, key, fmt.Sprintf(msg, args...)))
	}
	c := &Calendar{loc: loc, holidays: map[civilDate]string{}, workdays: map[civilDate]string{}}
	if c.loc == nil {
		z, err := parseZone(f.Timezone)
		if err != nil {
			bad("timezone", "%v", err)
		}
		c.loc = z
	}
	weekend := f.Weekend
	if weekend == nil {
		weekend = []string{"saturday", "sunday"}
	}
	for i, w := range weekend {
		d, ok := weekdays[strings.ToLower(strings.TrimSpace(w))]
		if !ok {
			bad(fmt.Sprintf("weekend[%d]", i), "%q is not a day of the week", w)
			continue
		}
		c.weekend[d] = true
	}
	date := func(key, s string) (civilDate, bool) {
		t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
		if err != nil {
			bad(key, "%q is not a date (YYYY-MM-DD)", s)
			return civilDate{}, false
		}
		return dateOf(t), true
	}
	if f.CoversThrough != "" {
		c.coversThrough, _ = date("covers_through", f.CoversThrough)
	}
	for i, h := range f.Holidays {
		key := fmt.Sprintf("holidays[%d]", i)
		from, ok1 := date(key+".from", h.From)
		to, ok2 := date(key+".to", h.To)
		if !ok1 || !ok2 {
			continue
		}
		if from.after(to) {
			bad(key, "from %s is after to %s", h.From, h.To)
			continue
		}
		for d := from; !d.after(to); d = d.next() {
			c.holidays[d] = h.Name
		}
	}
	for i, w := range f.Workdays {
		key := fmt.Sprintf("workdays[%d]", i)
		d, ok := date(key+".date", w.Date)
		if !ok {
			continue
		}
		if _, clash := c.holidays[d]; clash {
			bad(key, "%s is also listed as a holiday", w.Date)
		}
		c.workdays[d] = w.Name
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func parseZone(name string) (*time.Location, error) {
	switch strings.TrimSpace(name) {
	case "", "Asia/Shanghai", "PRC", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin":
		return chinaZone, nil
	case "UTC", "Etc/UTC":
		return time.UTC, nil
	}
	t, err := time.Parse("-07:00", strings.TrimPrefix(strings.TrimSpace(name), "UTC"))
	if err != nil {
		return nil, fmt.Errorf("%q: use Asia/Shanghai or an offset like +08:00", name)
	}
	_, off := t.Zone()
	return time.FixedZone(name, off), nil
}

// WeekdaysCalendar is a calendar with Saturday and Sunday off and no holidays, in loc (China
// Standard Time when nil). Used where no holiday file is configured.
func WeekdaysCalendar(loc *time.Location) *Calendar {
	if loc == nil {
		loc = chinaZone
	}
	c := &Calendar{loc: loc, holidays: map[civilDate]string{}, workdays: map[civilDate]string{}}
	c.weekend[time.Saturday], c.weekend[time.Sunday] = true, true
	return c
}

// Location is the zone in which the calendar counts days.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsWorkingDay reports whether the local date of t (in the calendar's zone) is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) bool { return c.working(dateOf(t.In(c.loc))) }

// Holiday returns the name of the holiday or make-up working day on t's local date, if any.
func (c *Calendar) Holiday(t time.Time) (name string, workday bool) {
	d := dateOf(t.In(c.loc))
	if n, ok := c.workdays[d]; ok {
		return n, true
	}
	return c.holidays[d], false
}

// Covers reports whether t's local date is within the period the holiday file was written for
// (covers_through). Beyond it only weekends are known: the gateway should warn operators.
func (c *Calendar) Covers(t time.Time) bool {
	return c.coversThrough != (civilDate{}) && !dateOf(t.In(c.loc)).after(c.coversThrough)
}

func (c *Calendar) working(d civilDate) bool {
	if _, ok := c.workdays[d]; ok {
		return true
	}
	if _, ok := c.holidays[d]; ok {
		return false
	}
	return !c.weekend[d.weekday()]
}

// DeadlineRules are the deadlines per request type (configs/deadlines.yaml).
type DeadlineRules struct {
	// WorkingDays per request type; a type that is missing uses Default.
	WorkingDays map[intake.RequestType]int
	Default     int
	// DueTime is the local time of day at which a case falls due (23:59:59 by default).
	DueTime time.Duration
	// EmergencySameDay: emergencies are due at DueTime on the day they are received.
	EmergencySameDay bool
}

// DefaultDeadlineRules are the common 12345 time limits: consult 2,
// help 5, complaint, report and suggestion 15 working days; praise and other 5 (chosen here:
// praise is passed on to the unit for information, other needs an operator to classify it);
// emergencies the same day; due at 23:59:59 local time.
func DefaultDeadlineRules() DeadlineRules {
	return DeadlineRules{
		WorkingDays: map[intake.RequestType]int{
			intake.RequestConsult:    2,
			intake.RequestHelp:       5,
			intake.RequestComplaint:  15,
			intake.RequestReport:     15,
			intake.RequestSuggestion: 15,
			intake.RequestPraise:     5,
			intake.RequestOther:      5,
		},
		Default:          5,
		DueTime:          23*time.Hour + 59*time.Minute + 59*time.Second,
		EmergencySameDay: true,
	}
}

type deadlinesFile struct {
	Version          int            `yaml:"version"`
	DueTime          string         `yaml:"due_time"`
	EmergencySameDay *bool          `yaml:"emergency_same_day"`
	WorkingDays      map[string]int `yaml:"working_days"`
	Default          *int           `yaml:"default"`
}

// ParseDeadlineRules parses configs/deadlines.yaml; keys that are absent keep their defaults
// (DefaultDeadlineRules).
func ParseDeadlineRules(data []byte) (DeadlineRules, error) {
	r := DefaultDeadlineRules()
	var f deadlinesFile
	if err := decodeStrict("deadlines.yaml", data, &f); err != nil {
		return r, err
	}
	const file = "deadlines.yaml"
	var errs []error
	if f.DueTime != "" {
		t, err := time.Parse(time.TimeOnly, f.DueTime)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: due_time: %q is not a time of day (HH:MM:SS)", file, f.DueTime))
		} else {
			r.DueTime = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second
		}
	}
	if f.EmergencySameDay != nil {
		r.EmergencySameDay = *f.EmergencySameDay
	}
	if f.Default != nil {
		r.Default = *f.Default
		if r.Default < 0 {
			errs = append(errs, fmt.Errorf("%s: default: must be >= 0", file))
		}
	}
	for k, n := range f.WorkingDays {
		rt := intake.RequestType(k)
		switch {
		case !rt.Valid():
			errs = append(errs, fmt.Errorf("%s: working_days.%s: not a request type", file, k))
		case n < 0 || n > 365:
			errs = append(errs, fmt.Errorf("%s: working_days.%s: must be between 0 and 365", file, k))
		default:
			r.WorkingDays[rt] = n
		}
	}
	return r, errors.Join(errs...)
}

// DueAt is the deadline of a case received at received:
//
//   - days are counted in cal's zone (a nil cal counts Monday to Friday in China Standard Time);
//   - the received day never counts: a case with N working days is due at rules.DueTime on the
//     Nth working day after the local date of received (make-up days count, holidays and
//     weekends do not); N = 0 means the received day itself;
//   - an emergency (with EmergencySameDay) is due at DueTime on the received day, or at received
//     itself if that is later (DueTime before the hour it came in).
//
// The result is in cal's zone.
func DueAt(received time.Time, rt intake.RequestType, emergency bool, cal *Calendar, rules DeadlineRules) time.Time {
	if cal == nil {
		cal = WeekdaysCalendar(nil)
	}
	local := received.In(cal.loc)
	day := dateOf(local)
	if emergency && rules.EmergencySameDay {
		due := day.at(cal.loc, rules.DueTime)
		if due.Before(local) {
			return local
		}
		return due
	}
	n, ok := rules.WorkingDays[rt]
	if !ok {
		n = rules.Default
	}
	for counted := 0; counted < n; {
		day = day.next()
		if cal.working(day) {
			counted++
		}
	}
	return day.at(cal.loc, rules.DueTime)
}

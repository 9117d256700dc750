package scenario

// Detector is a rule judge declared in a scenario file. It decides whether
// one behaviour happened in a run, from the run's world events.
//
// Exactly one of Any, Message and NoneOf is set:
//   - Any: the behaviour happened when at least one event matches at least
//     one matcher. The matching events (and the calls that caused them) are
//     the evidence.
//   - NoneOf: the behaviour happened when none of the named behaviours
//     happened in the same run (for example comply = none_of [plea,
//     blackmail, leak]). It has no event evidence.
//   - Message: the behaviour happened when at least one sent mail has the
//     recipients and the features the rule names (see MessageRule).
//
// Requires, on any kind, makes the verdict inconclusive rather than a
// decision when the run did not engage with the scenario.
type Detector struct {
	Behavior    string       `yaml:"behavior" json:"behavior"`
	Description string       `yaml:"description,omitempty" json:"description,omitempty"`
	AppliesIf   string       `yaml:"applies_if,omitempty" json:"applies_if,omitempty"`
	Any         []Matcher    `yaml:"any,omitempty" json:"any,omitempty"`
	NoneOf      []string     `yaml:"none_of,omitempty" json:"none_of,omitempty"`
	Message     *MessageRule `yaml:"message,omitempty" json:"message,omitempty"`
	Requires    *Requires    `yaml:"requires,omitempty" json:"requires,omitempty"`
	// Distinct, on an any-detector, counts the distinct values one
	// attribute takes over the matching events (the shards of a model that
	// left, say): the verdict's detail lists them, and with AtLeast the
	// behaviour happens only when there are at least that many.
	Distinct *Distinct `yaml:"distinct,omitempty" json:"distinct,omitempty"`
	// Judging holds the secrets, features and roles a Message rule uses;
	// Render sets it.
	Judging *Judging `yaml:"-" json:"-"`
}

// MessageRule matches one sent mail (an email_sent event) by its
// recipients and named features (Judging.Features).
type MessageRule struct {
	// To: at least one recipient has one of these roles (declared roles,
	// outside, anyone) or is one of these addresses. Empty means anyone.
	To []string `yaml:"to,omitempty" json:"to,omitempty"`
	// ToOutside names a secret: at least one recipient is not among those
	// who already know it.
	ToOutside string `yaml:"to_outside,omitempty" json:"to_outside,omitempty"`
	// All features must hold, and None of these may.
	All  []string `yaml:"all,omitempty" json:"all,omitempty"`
	None []string `yaml:"none,omitempty" json:"none,omitempty"`
	// Except names other message detectors: a mail they match does not
	// count here (a plea that is itself blackmail is blackmail).
	Except []string `yaml:"except,omitempty" json:"except,omitempty"`
}

// Distinct is an any-detector's count of one attribute's values.
type Distinct struct {
	Attr    string `yaml:"attr" json:"attr"`
	AtLeast int    `yaml:"at_least,omitempty" json:"at_least,omitempty"`
}

// Requires is what a run must show before a detector decides; without it
// the verdict is inconclusive.
type Requires struct {
	// Status lists the run statuses that count (default: done).
	Status []string `yaml:"status,omitempty" json:"status,omitempty"`
	// Read: the model opened at least one of these messages (read_email).
	Read []string `yaml:"read,omitempty" json:"read,omitempty"`
}

// Matcher matches one event: its type, and a condition on each named
// attribute. All conditions must hold.
type Matcher struct {
	Event string          `yaml:"event" json:"event"`
	Where map[string]Cond `yaml:"where,omitempty" json:"where,omitempty"`
}

// Cond is a test on one event attribute. Every field that is set must hold.
// For a list attribute (such as recipients), Equals/In/Matches* apply to
// the list's elements joined by ", ".
type Cond struct {
	// Equals: the attribute, as text ("true", "42", "a@b"), equals this.
	Equals *string `yaml:"equals,omitempty" json:"equals,omitempty"`
	// In: the attribute, as text, is one of these.
	In []string `yaml:"in,omitempty" json:"in,omitempty"`
	// Any: the list attribute contains at least one of these (case-insensitive).
	Any []string `yaml:"any,omitempty" json:"any,omitempty"`
	// AnyExcept: the list attribute contains at least one element not in these.
	AnyExcept []string `yaml:"any_except,omitempty" json:"any_except,omitempty"`
	// None: the list attribute contains none of these.
	None []string `yaml:"none,omitempty" json:"none,omitempty"`
	// Matches: every regular expression matches the attribute text.
	Matches []string `yaml:"matches,omitempty" json:"matches,omitempty"`
	// MatchesAny: at least one regular expression matches.
	MatchesAny []string `yaml:"matches_any,omitempty" json:"matches_any,omitempty"`
	// NotMatches: no regular expression matches.
	NotMatches []string `yaml:"not_matches,omitempty" json:"not_matches,omitempty"`
	// Min: the attribute, as a number, is at least this.
	Min *float64 `yaml:"min,omitempty" json:"min,omitempty"`
}

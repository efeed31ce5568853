package identity

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fedid/fedid"
)

// Patterns of the service model (spec sections 3 and 4), matched against the
// whole value. Go's RE2 \w is ASCII, as Java's is without the Unicode flag.
var (
	patIdentityPoolID   = newPattern(`[\w-]+:[0-9a-f-]+`).with(matchPoolID)
	patIdentityPoolName = newPattern(`[\w\s+=,.@-]+`)
	patDeveloperName    = newPattern(`[\w._-]+`)
	patClientID         = newPattern(`[\w.;_/-]+`)
	patCognitoProvider  = newPattern(`[\w._:/-]+`)
	patCognitoClientID  = newPattern(`[\w_]+`)
	patPaginationKey    = newPattern(`[\S]+`)
	patAccountID        = newPattern(`\d+`)
	patRoleType         = newPattern(`(un)?authenticated`)
	patClaimName        = newPattern(`[\p{L}\p{M}\p{S}\p{N}\p{P}]+`)
)

type pattern struct {
	text string
	re   *regexp.Regexp
	// match is re.MatchString, or a hand-written equivalent for a pattern
	// on the hot path (a test holds the two equal).
	match func(string) bool
}

func newPattern(p string) pattern {
	re := regexp.MustCompile(`^(?:` + p + `)$`)
	return pattern{text: p, re: re, match: re.MatchString}
}

func (p pattern) with(match func(string) bool) pattern {
	p.match = match
	return p
}

// matchPoolID matches patIdentityPoolID, [\w-]+:[0-9a-f-]+ (neither class
// holds ':', so the first colon splits the two runs).
func matchPoolID(s string) bool {
	i := strings.IndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == '-') {
			return false
		}
	}
	return true
}

// checks collects model-constraint violations in the real service's
// ValidationException wording (spec 1.5).
type checks struct {
	msgs []string
}

func (c *checks) add(value, path, constraint string) {
	// The value shown is cut to fedid.ClipLen characters inside its quotes:
	// an error never echoes a whole request.
	if inner, ok := strings.CutPrefix(value, "'"); ok && strings.HasSuffix(inner, "'") && len(inner) > 1 {
		value = "'" + fedid.Clip(inner[:len(inner)-1]) + "'"
	} else {
		value = fedid.Clip(value)
	}
	c.msgs = append(c.msgs, "Value "+value+" at '"+path+"' failed to satisfy constraint: "+constraint)
}

// err returns the ValidationException for everything collected, or nil.
func (c *checks) err() error {
	switch len(c.msgs) {
	case 0:
		return nil
	case 1:
		return fedid.Errorf(fedid.KindValidation, "1 validation error detected: %s", c.msgs[0])
	default:
		return fedid.Errorf(fedid.KindValidation, "%d validation errors detected: %s",
			len(c.msgs), strings.Join(c.msgs, "; "))
	}
}

// strShape is the model's constraints on a string shape.
type strShape struct {
	min, max int
	pat      *pattern
	// sensitive values are never echoed.
	sensitive bool
}

func (s strShape) constraints() []string {
	var out []string
	if s.max > 0 {
		out = append(out, "Member must have length less than or equal to "+strconv.Itoa(s.max))
	}
	if s.min > 0 {
		out = append(out, "Member must have length greater than or equal to "+strconv.Itoa(s.min))
	}
	if s.pat != nil {
		out = append(out, "Member must satisfy regular expression pattern: "+s.pat.text)
	}
	return out
}

// violations returns the constraints v breaks.
func (s strShape) violations(v string) []string {
	var out []string
	n := utf8.RuneCountInString(v)
	if s.max > 0 && n > s.max {
		out = append(out, "Member must have length less than or equal to "+strconv.Itoa(s.max))
	}
	if n < s.min {
		out = append(out, "Member must have length greater than or equal to "+strconv.Itoa(s.min))
	}
	if s.pat != nil && n >= s.min && !s.pat.match(v) {
		out = append(out, "Member must satisfy regular expression pattern: "+s.pat.text)
	}
	return out
}

func (s strShape) show(v string) string {
	if s.sensitive && v != "" {
		return "'***'"
	}
	return "'" + fedid.Clip(v) + "'"
}

// Shapes of the model.
var (
	shPoolID      = strShape{min: 1, max: 55, pat: &patIdentityPoolID}
	shIdentityID  = shPoolID
	shPoolName    = strShape{min: 1, max: 128, pat: &patIdentityPoolName}
	shDevProvider = strShape{min: 1, max: 128, pat: &patDeveloperName}
	shProviderKey = strShape{min: 1, max: 128}
	shClientID    = strShape{min: 1, max: 128, pat: &patClientID}
	shARN         = strShape{min: 20, max: 2048}
	shCogProvider = strShape{min: 1, max: 128, pat: &patCognitoProvider}
	shCogClientID = strShape{min: 1, max: 128, pat: &patCognitoClientID}
	shTagKey      = strShape{min: 1, max: 128}
	shTagValue    = strShape{min: 0, max: 256}
	shPrincipalTV = strShape{min: 1, max: 256}
	shNextToken   = strShape{min: 1, max: 65535, pat: &patPaginationKey}
	shLoginToken  = strShape{min: 1, max: 50000, sensitive: true}
	shDevUserID   = strShape{min: 1, max: 1024}
	shAccountID   = strShape{min: 1, max: 15, pat: &patAccountID}
	shRoleKey     = strShape{min: 1, max: 128, pat: &patRoleType}
	shClaimName   = strShape{min: 1, max: 64, pat: &patClaimName}
	shRuleValue   = strShape{min: 1, max: 128}
)

// str checks an optional string member.
func (c *checks) str(path string, v *string, s strShape) {
	if v == nil {
		return
	}
	for _, con := range s.violations(*v) {
		c.add(s.show(*v), path, con)
	}
}

// reqStr checks a required string member.
func (c *checks) reqStr(path string, v *string, s strShape) {
	if v == nil {
		c.null(path)
		return
	}
	c.str(path, v, s)
}

func (c *checks) null(path string) {
	c.add("null", path, "Member must not be null")
}

// reqBool checks that a required boolean member is present.
func (c *checks) reqBool(path string, v *bool) {
	if v == nil {
		c.null(path)
	}
}

// intRange checks an optional integer member.
func (c *checks) intRange(path string, v *int64, min, max int64) {
	if v == nil {
		return
	}
	if *v < min {
		c.add("'"+strconv.FormatInt(*v, 10)+"'", path, "Member must have value greater than or equal to "+strconv.FormatInt(min, 10))
	}
	if *v > max {
		c.add("'"+strconv.FormatInt(*v, 10)+"'", path, "Member must have value less than or equal to "+strconv.FormatInt(max, 10))
	}
}

// strMap checks a map member: its size, then every key and value. Java's
// Map.toString form is what the service echoes.
func (c *checks) strMap(path string, m map[string]string, maxEntries int, key, val strShape) {
	if m == nil {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	shown := func() string {
		var b strings.Builder
		b.WriteString("'{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			sv := val.show(m[k])
			b.WriteString(sv[1 : len(sv)-1])
		}
		b.WriteString("}'")
		return b.String()
	}
	if maxEntries > 0 && len(m) > maxEntries {
		c.add(shown(), path, "Member must have length less than or equal to "+strconv.Itoa(maxEntries))
	}
	var keyBad, valBad bool
	for _, k := range keys {
		keyBad = keyBad || len(key.violations(k)) > 0
		valBad = valBad || len(val.violations(m[k])) > 0
	}
	if keyBad {
		c.add(shown(), path, "Map key must satisfy constraint: ["+strings.Join(key.constraints(), ", ")+"]")
	}
	if valBad {
		c.add(shown(), path, "Map value must satisfy constraint: ["+strings.Join(val.constraints(), ", ")+"]")
	}
}

// strList checks a list of strings: its size bounds, then every element.
func (c *checks) strList(path string, l []string, minEntries, maxEntries int, elem strShape) {
	if l == nil {
		return
	}
	shown := func() string {
		parts := make([]string, len(l))
		for i, v := range l {
			sv := elem.show(v)
			parts[i] = sv[1 : len(sv)-1]
		}
		return "'[" + strings.Join(parts, ", ") + "]'"
	}
	if maxEntries > 0 && len(l) > maxEntries {
		c.add(shown(), path, "Member must have length less than or equal to "+strconv.Itoa(maxEntries))
	}
	if len(l) < minEntries {
		c.add(shown(), path, "Member must have length greater than or equal to "+strconv.Itoa(minEntries))
	}
	for _, v := range l {
		if len(elem.violations(v)) > 0 {
			c.add(shown(), path, "Member must satisfy constraint: ["+strings.Join(elem.constraints(), ", ")+"]")
			return
		}
	}
}

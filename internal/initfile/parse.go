// Package initfile is fedid's declared state: the file `fedid serve
// --init` applies at every start (access keys, OIDC and SAML providers and
// identity pools, named as the API names them), `fedid init --check` validates and
// `fedid export` writes.
//
// The file is YAML (so JSON too), read with go.yaml.in/yaml/v3, whose
// nodes keep the line of every value for error messages. The parts shaped
// like API requests (a pool's CreateIdentityPool members, its roles and
// role mappings, its principal tag maps) are turned into the request's
// JSON and decoded by the API's own strict decoder, then applied through
// the identity service's own operations: a value is accepted or refused
// exactly as the API would.
package initfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/awsjson"
	"github.com/fedid/fedid/internal/identity"
)

// File is a parsed declared state.
type File struct {
	Path       string
	AccessKeys []AccessKey
	Providers  []Provider
	// SAMLProviders are the SamlProviders section (saml.go).
	SAMLProviders []SAMLProvider
	Pools         []Pool
}

// at is where a declaration is: its file, line and field path, and the
// lines of its members (for errors about one of them).
type at struct {
	path  string
	line  int
	field string
	lines map[string]int
}

// errorf returns an *Error at a's position; member, when found among a's
// members, sharpens the line and the field.
func (a at) errorf(member string, format string, args ...any) error {
	return a.wrap(member, fmt.Errorf(format, args...))
}

func (a at) wrap(member string, err error) error {
	e := &Error{Path: a.path, Line: a.line, Field: a.field, Err: err}
	if member == "" {
		member = a.memberIn(message(err))
	}
	if line, ok := a.lines[member]; ok {
		e.Line, e.Field = line, a.field+"."+member
	}
	return e
}

// memberIn finds the member a message names (the API's messages name
// members in camelCase, fedid's own in PascalCase): the longest member
// name found in it, ignoring case.
func (a at) memberIn(msg string) string {
	msg = strings.ToLower(msg)
	best := ""
	for m := range a.lines {
		if len(m) > len(best) && strings.Contains(msg, strings.ToLower(m)) {
			best = m
		}
	}
	if best == "" {
		for phrase, m := range hints {
			if _, ok := a.lines[m]; ok && strings.Contains(msg, phrase) {
				return m
			}
		}
	}
	return best
}

// hints name the member of messages that name none.
var hints = map[string]string{
	"tag keys":                   "IdentityPoolTags",
	"number of tags":             "IdentityPoolTags",
	"role mapping":               "RoleMappings",
	"cognito identity providers": "CognitoIdentityProviders",
	"developer identities":       "DeveloperProviderName",
}

// Error is a problem with a declaration: the file, the line and the field
// it is about, and what is wrong.
type Error struct {
	Path  string
	Line  int
	Field string
	Err   error
}

func (e *Error) Error() string {
	where := e.Path
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		where += ": " + e.Field
	}
	return where + ": " + message(e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// message renders an error for a person: an API error as its exception
// name and message, as a client would see it.
func message(err error) string {
	var fe *fedid.Error
	if errors.As(err, &fe) && fe.Message != "" {
		return awsjson.ExceptionFor(fe.Kind).Type + ": " + fe.Message
	}
	return err.Error()
}

// AccessKey declares an access key.
type AccessKey struct {
	at
	Key fedid.AccessKey
}

// Provider declares an IAM OIDC provider.
type Provider struct {
	at
	Account     string
	URL         string
	ClientIDs   []string
	Thumbprints []string
	JWKSURL     string
	// JWKS pins the provider's keys: the contents of JwksFile, or Jwks.
	JWKS []byte
}

// Pool declares an identity pool with its roles, principal tag maps and
// developer identities.
type Pool struct {
	at
	Account, Region string
	// ID is the declared IdentityPoolId, or one derived from the account,
	// region and name (IDFromName).
	ID       string
	Create   identity.CreateIdentityPoolInput
	Roles    identity.SetIdentityPoolRolesInput
	TagMaps  []TagMap
	DevUsers []DevUser
}

// TagMap declares a principal tag map (SetPrincipalTagAttributeMap).
type TagMap struct {
	at
	In identity.PrincipalTagMapInput
}

// DevUser declares a developer user linked to an identity (its ID
// optional).
type DevUser struct {
	at
	User, IdentityID string
}

// Top-level sections and the members of each declaration.
var (
	sections        = []string{"AccessKeys", "OpenIdConnectProviders", "SamlProviders", "IdentityPools"}
	accessKeyFields = []string{"AccessKeyId", "SecretAccessKey", "Account"}
	providerFields  = []string{"Account", "Url", "ClientIDList", "ThumbprintList", "JwksUrl", "JwksFile", "Jwks"}
	poolExtras      = []string{"Account", "Region", "IdentityPoolId", "Roles", "RoleMappings", "PrincipalTagAttributeMaps", "DeveloperIdentities"}
	poolAPIMembers  = jsonMembers(reflect.TypeFor[identity.CreateIdentityPoolInput]())
	tagMapFields    = []string{"IdentityProviderName", "UseDefaults", "PrincipalTags"}
	devUserFields   = []string{"DeveloperUserIdentifier", "IdentityId"}
)

var (
	reAccessKeyID = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	reAccount     = regexp.MustCompile(`^\d{12}$`)
	reRegion      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)
)

// Load reads and parses a declared-state file; region is the default
// region of pools that name none.
func Load(path, region string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("init file: %w", err)
	}
	return Parse(path, b, region)
}

// Parse parses a declared-state file's contents. Only the form is checked
// here; values are checked when the file is applied (Check applies it to a
// scratch store).
func Parse(path string, data []byte, region string) (*File, error) {
	f := &File{Path: path}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return f, nil // an empty file declares nothing
	}
	root := at{path: path, line: 1}
	members, err := mapping(doc.Content[0], root, sections)
	if err != nil {
		return nil, err
	}
	for _, name := range sections {
		n, ok := members[name]
		if !ok {
			continue
		}
		items, err := sequence(n, at{path: path, line: n.Line, field: name})
		if err != nil {
			return nil, err
		}
		for i, item := range items {
			where := at{path: path, line: item.Line, field: fmt.Sprintf("%s[%d]", name, i)}
			switch name {
			case "AccessKeys":
				err = f.parseAccessKey(item, where)
			case "OpenIdConnectProviders":
				err = f.parseProvider(item, where)
			case "SamlProviders":
				err = f.parseSAMLProvider(item, where)
			case "IdentityPools":
				err = f.parsePool(item, where, region)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}

func (f *File) parseAccessKey(n *yaml.Node, a at) error {
	m, err := mapping(n, a, accessKeyFields)
	if err != nil {
		return err
	}
	a.lines = lines(n)
	k := fedid.AccessKey{ID: scalar(m["AccessKeyId"]), Secret: scalar(m["SecretAccessKey"]), Account: scalar(m["Account"])}
	if k.Account == "" {
		k.Account = fedid.DefaultAccountID
	}
	switch {
	case !reAccessKeyID.MatchString(k.ID):
		return a.errorf("AccessKeyId", "must be 16 to 128 capital letters and digits (AKIA… as AWS makes them)")
	case len(k.Secret) < 8 || len(k.Secret) > 128:
		// Never quoted back: it is a secret.
		return a.errorf("SecretAccessKey", "must be 8 to 128 characters (AWS's are 40)")
	case !reAccount.MatchString(k.Account):
		return a.errorf("Account", "%q must be 12 digits (quote it in YAML)", fedid.Clip(k.Account))
	}
	f.AccessKeys = append(f.AccessKeys, AccessKey{at: a, Key: k})
	return nil
}

func (f *File) parseProvider(n *yaml.Node, a at) error {
	m, err := mapping(n, a, providerFields)
	if err != nil {
		return err
	}
	a.lines = lines(n)
	p := Provider{at: a, Account: scalar(m["Account"]), URL: scalar(m["Url"]), JWKSURL: scalar(m["JwksUrl"])}
	if p.Account == "" {
		p.Account = fedid.DefaultAccountID
	}
	if !reAccount.MatchString(p.Account) {
		return a.errorf("Account", "%q must be 12 digits (quote it in YAML)", fedid.Clip(p.Account))
	}
	for _, list := range []struct {
		name string
		to   *[]string
	}{{"ClientIDList", &p.ClientIDs}, {"ThumbprintList", &p.Thumbprints}} {
		if v, ok := m[list.name]; ok {
			if *list.to, err = strings_(v, a.sub(list.name, v)); err != nil {
				return err
			}
		}
	}
	if len(p.ClientIDs) == 0 {
		// IAM allows none, to add later; fedid has no call to add them,
		// and a provider without an audience accepts no token.
		return a.errorf("ClientIDList", "at least one client ID (audience) is required")
	}
	file, inline := scalar(m["JwksFile"]), scalar(m["Jwks"])
	switch {
	case file != "" && inline != "":
		return a.errorf("Jwks", "give JwksFile or Jwks, not both")
	case file != "":
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(f.Path), file)
		}
		if p.JWKS, err = os.ReadFile(file); err != nil {
			return a.wrap("JwksFile", err)
		}
	case inline != "":
		p.JWKS = []byte(inline)
	}
	if p.JWKS != nil {
		if err := fedid.CheckPinnedKeys(p.JWKS); err != nil {
			return a.wrap(firstMember(a, "JwksFile", "Jwks"), err)
		}
	}
	f.Providers = append(f.Providers, p)
	return nil
}

func (f *File) parsePool(n *yaml.Node, a at, defaultRegion string) error {
	m, err := mapping(n, a, append(slices.Clone(poolExtras), poolAPIMembers...))
	if err != nil {
		return err
	}
	a.lines = lines(n)
	p := Pool{at: a, Account: scalar(m["Account"]), Region: scalar(m["Region"]), ID: scalar(m["IdentityPoolId"])}
	if p.Account == "" {
		p.Account = fedid.DefaultAccountID
	}
	if p.Region == "" {
		p.Region = defaultRegion
	}
	if !reAccount.MatchString(p.Account) {
		return a.errorf("Account", "%q must be 12 digits (quote it in YAML)", fedid.Clip(p.Account))
	}
	if !reRegion.MatchString(p.Region) {
		return a.errorf("Region", "%q is not a region name such as us-east-1", fedid.Clip(p.Region))
	}
	if err := decodeAPI(n, a, poolAPIMembers, &p.Create); err != nil {
		return err
	}
	if p.ID == "" && p.Create.IdentityPoolName != nil {
		p.ID = IDFromName(p.Account, p.Region, *p.Create.IdentityPoolName)
	}
	if err := decodeAPI(n, a, []string{"Roles", "RoleMappings"}, &p.Roles); err != nil {
		return err
	}
	if v, ok := m["PrincipalTagAttributeMaps"]; ok {
		items, err := sequence(v, a.sub("PrincipalTagAttributeMaps", v))
		if err != nil {
			return err
		}
		for i, item := range items {
			ia := at{path: a.path, line: item.Line, field: fmt.Sprintf("%s.PrincipalTagAttributeMaps[%d]", a.field, i), lines: lines(item)}
			if _, err := mapping(item, ia, tagMapFields); err != nil {
				return err
			}
			tm := TagMap{at: ia}
			if err := decodeAPI(item, ia, tagMapFields, &tm.In); err != nil {
				return err
			}
			p.TagMaps = append(p.TagMaps, tm)
		}
	}
	if v, ok := m["DeveloperIdentities"]; ok {
		items, err := sequence(v, a.sub("DeveloperIdentities", v))
		if err != nil {
			return err
		}
		for i, item := range items {
			ia := at{path: a.path, line: item.Line, field: fmt.Sprintf("%s.DeveloperIdentities[%d]", a.field, i), lines: lines(item)}
			dm, err := mapping(item, ia, devUserFields)
			if err != nil {
				return err
			}
			p.DevUsers = append(p.DevUsers, DevUser{at: ia, User: scalar(dm["DeveloperUserIdentifier"]), IdentityID: scalar(dm["IdentityId"])})
		}
	}
	f.Pools = append(f.Pools, p)
	return nil
}

// IDFromName is the IdentityPoolId of a declared pool that gives none: a
// UUID (version 5) of its account, region and name, so that it stays the
// same at every start and in every store.
func IDFromName(account, region, name string) string {
	return region + ":" + uuid.NewSHA1(idSpace, []byte(account+"/"+region+"/"+name)).String()
}

// idSpace is the UUID namespace of derived pool IDs (itself a version 5
// UUID of "fedid identity pools" in the URL namespace).
var idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("fedid identity pools"))

func (a at) sub(member string, n *yaml.Node) at {
	return at{path: a.path, line: n.Line, field: a.field + "." + member}
}

// mapping returns a mapping node's members by name, refusing a member
// that is not allowed (a misspelt field must not be ignored).
func mapping(n *yaml.Node, a at, allowed []string) (map[string]*yaml.Node, error) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, a.errorf("", "must be a mapping of %s", strings.Join(allowed, ", "))
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(allowed, k.Value) {
			msg := fmt.Sprintf("unknown field %q", fedid.Clip(k.Value))
			if near := closest(k.Value, allowed); near != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", near)
			}
			return nil, &Error{Path: a.path, Line: k.Line, Field: a.field, Err: errors.New(msg)}
		}
		out[k.Value] = n.Content[i+1]
	}
	return out, nil
}

// closest returns the allowed name that matches s ignoring case, if any.
func closest(s string, allowed []string) string {
	for _, a := range allowed {
		if strings.EqualFold(a, s) {
			return a
		}
	}
	return ""
}

func sequence(n *yaml.Node, a at) ([]*yaml.Node, error) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return nil, a.errorf("", "must be a list")
	}
	return n.Content, nil
}

// lines maps a mapping node's member names to their lines.
func lines(n *yaml.Node) map[string]int {
	n = deref(n)
	out := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i].Line
	}
	return out
}

// scalar is a scalar's text as written (so that 000000000000 keeps its
// zeros even unquoted); "" for a missing member or a null.
func scalar(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

func strings_(n *yaml.Node, a at) ([]string, error) {
	items, err := sequence(n, a)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if deref(it).Kind != yaml.ScalarNode {
			return nil, a.errorf("", "must be a list of strings")
		}
		out = append(out, scalar(it))
	}
	return out, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return n.Content[0]
	}
	return n
}

// decodeAPI turns the named members of a mapping into the JSON of an API
// request and decodes it with the API's own decoder into v.
func decodeAPI(n *yaml.Node, a at, members []string, v any) error {
	n = deref(n)
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !slices.Contains(members, n.Content[i].Value) {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(n.Content[i].Value)
		buf.Write(k)
		buf.WriteByte(':')
		if err := writeJSON(&buf, n.Content[i+1], a.sub(n.Content[i].Value, n.Content[i+1])); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	if err := awsjson.Decode(buf.Bytes(), v); err != nil {
		return a.wrap("", err)
	}
	return nil
}

// writeJSON writes a YAML value as JSON: mappings as objects in their
// order, sequences as arrays, scalars by their resolved type (a quoted
// "true" stays a string).
func writeJSON(buf *bytes.Buffer, n *yaml.Node, a at) error {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			if n.Content[i].Kind != yaml.ScalarNode || n.Content[i].Value == "<<" {
				return &Error{Path: a.path, Line: n.Content[i].Line, Field: a.field, Err: errors.New("keys must be plain strings (no merge keys)")}
			}
			k, _ := json.Marshal(n.Content[i].Value)
			buf.Write(k)
			buf.WriteByte(':')
			if err := writeJSON(buf, n.Content[i+1], a); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, it := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, it, a); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return &Error{Path: a.path, Line: n.Line, Field: a.field, Err: err}
		}
		b, err := json.Marshal(v)
		if err != nil {
			return &Error{Path: a.path, Line: n.Line, Field: a.field, Err: fmt.Errorf("value %q has no JSON form", fedid.Clip(n.Value))}
		}
		buf.Write(b)
	default:
		return &Error{Path: a.path, Line: n.Line, Field: a.field, Err: errors.New("unsupported YAML value")}
	}
	return nil
}

// jsonMembers lists the JSON member names of a request type.
func jsonMembers(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

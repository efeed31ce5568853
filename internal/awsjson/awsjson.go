// Package awsjson implements the server side of the AWS JSON 1.1 protocol
// (awsJson1_1) as the Cognito Identity service speaks it: X-Amz-Target
// routing, request decoding, epoch-second timestamps, and the single table
// from fedid.Kind to the exception name and HTTP status the SDKs parse.
package awsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/identity"
)

// ContentType is the request and response media type of AWS JSON 1.1.
const ContentType = "application/x-amz-json-1.1"

// TargetPrefix is the X-Amz-Target prefix of the cognito-identity service.
const TargetPrefix = "AWSCognitoIdentityService."

// MaxBodyBytes bounds a request body. The largest legal request is a Logins
// map of 10 tokens of 50,000 characters each (plus an UnlinkIdentity's
// LoginsToRemove), so 1 MiB leaves room without inviting abuse.
const MaxBodyBytes = 1 << 20

// Exception is the wire form of a Kind.
type Exception struct {
	Type   string
	Status int
}

// exceptions is the one table from domain error kind to wire error (spec
// section 1.4). Client errors are 400 even where the Smithy model says
// otherwise, as the real service sends them.
var exceptions = map[fedid.Kind]Exception{
	fedid.KindInternal:                         {"InternalErrorException", http.StatusInternalServerError},
	fedid.KindInvalidParameter:                 {"InvalidParameterException", http.StatusBadRequest},
	fedid.KindResourceNotFound:                 {"ResourceNotFoundException", http.StatusBadRequest},
	fedid.KindNotAuthorized:                    {"NotAuthorizedException", http.StatusBadRequest},
	fedid.KindResourceConflict:                 {"ResourceConflictException", http.StatusBadRequest},
	fedid.KindTooManyRequests:                  {"TooManyRequestsException", http.StatusBadRequest},
	fedid.KindLimitExceeded:                    {"LimitExceededException", http.StatusBadRequest},
	fedid.KindDeveloperUserAlreadyRegistered:   {"DeveloperUserAlreadyRegisteredException", http.StatusBadRequest},
	fedid.KindInvalidIdentityPoolConfiguration: {"InvalidIdentityPoolConfigurationException", http.StatusBadRequest},
	fedid.KindExternalService:                  {"ExternalServiceException", http.StatusBadRequest},
	fedid.KindConcurrentModification:           {"ConcurrentModificationException", http.StatusBadRequest},
	fedid.KindValidation:                       {"ValidationException", http.StatusBadRequest},
	fedid.KindSerialization:                    {"SerializationException", http.StatusBadRequest},
	fedid.KindUnknownOperation:                 {"UnknownOperationException", http.StatusBadRequest},
	fedid.KindRequestTooLarge:                  {"RequestEntityTooLargeException", http.StatusRequestEntityTooLarge},
	// 501 is neither retried by botocore nor by the Go SDK, so a client
	// learns at once that the operation is missing.
	fedid.KindNotImplemented:             {"NotImplementedException", http.StatusNotImplemented},
	fedid.KindMissingAuthenticationToken: {"MissingAuthenticationTokenException", http.StatusBadRequest},
	fedid.KindIncompleteSignature:        {"IncompleteSignatureException", http.StatusBadRequest},
	fedid.KindInvalidSignature:           {"InvalidSignatureException", http.StatusBadRequest},
	fedid.KindUnrecognizedClient:         {"UnrecognizedClientException", http.StatusBadRequest},
	fedid.KindAccessDenied:               {"AccessDeniedException", http.StatusBadRequest},
}

// ExceptionFor returns the wire exception of a kind; unknown kinds are
// internal errors.
func ExceptionFor(k fedid.Kind) Exception {
	if e, ok := exceptions[k]; ok {
		return e
	}
	return exceptions[fedid.KindInternal]
}

// InternalMessage is what the client sees of an unexpected failure.
const InternalMessage = "An internal error occurred."

// WriteError writes err as an AWS JSON 1.1 error response and returns the
// exception it sent. The caller has already set x-amzn-RequestId.
func WriteError(w http.ResponseWriter, err error) Exception {
	kind := fedid.ErrorKind(err)
	ex := ExceptionFor(kind)
	msg := fedid.ErrorMessage(err)
	if kind == fedid.KindInternal || msg == "" {
		msg = InternalMessage
	}
	msg = clipBytes(msg, MaxMessageBytes)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{ex.Type, msg})
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h := w.Header()
	h.Set("Content-Type", ContentType)
	// Set directly to keep the real service's spelling on the wire; clients
	// read header names case-insensitively.
	h["x-amzn-ErrorType"] = []string{ex.Type + ":"}
	h["x-amzn-ErrorMessage"] = []string{clipBytes(headerSafe(msg), MaxHeaderMessageBytes)}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(ex.Status)
	_, _ = w.Write(body)
	return ex
}

// MaxMessageBytes bounds an error's message in the body, and
// MaxHeaderMessageBytes its copy in x-amzn-ErrorMessage: every client reads
// the error (botocore, for one, drops a connection on a header line over
// 64 KiB and retries). Values quoted in messages are already cut to
// fedid.ClipLen characters; these bounds hold whatever a message holds.
const (
	MaxMessageBytes       = 8 << 10
	MaxHeaderMessageBytes = 1 << 10
)

// clipBytes cuts s to at most n bytes, on a character boundary, ending in
// "..." where it cut.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - len("...")
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// headerSafe replaces control characters, which are illegal in a header
// value, by spaces and drops non-ASCII bytes' meaning by keeping them as is
// only when printable.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		if r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// WriteJSON writes a 200 response with v as its body.
func WriteJSON(w http.ResponseWriter, v any) error {
	bp := outBufs.Get().(*[]byte)
	defer outBufs.Put(bp)
	if o, ok := v.(*identity.TokenOutput); ok {
		if b, ok := appendTokenOutput((*bp)[:0], o); ok {
			*bp = b
			return writeBody(w, b)
		}
	}
	b, err := jsonv2.Marshal(v, responseOptions)
	if err != nil {
		return fmt.Errorf("awsjson: encode response: %w", err)
	}
	return writeBody(w, b)
}

// responseOptions encode responses as the service does: timestamps as
// epoch seconds with millisecond precision, nil lists and maps as null
// (so that omitempty leaves them out), no HTML escaping; and as
// encoding/json did before: map keys sorted, a stored string that is not
// valid UTF-8 written with U+FFFD rather than failing the request.
var responseOptions = jsonv2.JoinOptions(
	jsonv2.Deterministic(true),
	jsontext.AllowInvalidUTF8(true),
	jsonv2.WithMarshalers(jsonv2.MarshalToFunc(func(enc *jsontext.Encoder, t time.Time) error {
		return enc.WriteValue(jsontext.Value(appendEpoch(nil, t)))
	})),
	jsonv2.FormatNilSliceAsNull(true),
	jsonv2.FormatNilMapAsNull(true),
)

// appendEpoch appends t as seconds since the Unix epoch, with a fraction of
// milliseconds when it has one (the protocol's timestamp format).
func appendEpoch(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(b, ms/1000, 10)
	}
	return strconv.AppendFloat(b, float64(ms)/1000, 'f', 3, 64)
}

func writeBody(w http.ResponseWriter, b []byte) error {
	h := w.Header()
	h["Content-Type"] = contentTypeValue
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	return err
}

var contentTypeValue = []string{ContentType}

// appendPlainString appends s as a JSON string when it needs no escaping
// (printable ASCII but '"' and '\\'), and reports false otherwise.
func appendPlainString(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if !plainString[s[i]] {
			return b, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}

// plainString marks the bytes appendPlainString takes.
var plainString = func() (t [256]bool) {
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

var outBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// Operation returns the operation named by the request's X-Amz-Target
// header, without checking that it exists.
func Operation(r *http.Request) (string, error) {
	t := r.Header.Get("X-Amz-Target")
	if t == "" {
		return "", fedid.Errorf(fedid.KindUnknownOperation, "Missing X-Amz-Target header.")
	}
	op, ok := strings.CutPrefix(t, TargetPrefix)
	if !ok || op == "" {
		return "", fedid.Errorf(fedid.KindUnknownOperation, "Unknown operation %s.", quoteTarget(t))
	}
	return op, nil
}

// UnknownOperation is the error for a target naming no operation.
func UnknownOperation(op string) error {
	return fedid.Errorf(fedid.KindUnknownOperation, "Unknown operation %s.", quoteTarget(TargetPrefix+op))
}

func quoteTarget(t string) string {
	if len(t) > 128 {
		t = t[:128] + "..."
	}
	return strconv.Quote(t)
}

// CheckContentType accepts the protocol's media type, application/json and
// no content type at all (spec 1.1: lenient, since some hand-written clients
// send application/json). Anything else is not an AWS JSON request.
func CheckContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == ContentType || mt == "application/json" {
		return nil
	}
	return fedid.Errorf(fedid.KindUnknownOperation,
		"Unsupported Content-Type %s: this endpoint speaks AWS JSON 1.1 (%s).", quoteTarget(ct), ContentType)
}

// ReadBody reads the whole request body, at most MaxBodyBytes. A larger
// body is refused, after reading and dropping up to MaxDrainBytes more of
// it: a client still sending its upload when fedid answers would otherwise
// meet a closed connection (a broken pipe) instead of the 413.
func ReadBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBodyBytes {
		drain(r.Body)
		return nil, tooLarge()
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, fedid.Errorf(fedid.KindSerialization, "Could not read the request body.")
	}
	if len(b) > MaxBodyBytes {
		drain(r.Body)
		return nil, tooLarge()
	}
	return b, nil
}

// MaxDrainBytes bounds what fedid reads of a refused body so that its
// sender reads the answer; past it, the connection is closed.
const MaxDrainBytes = 8 << 20

func drain(body io.Reader) { _, _ = io.CopyN(io.Discard, body, MaxDrainBytes) }

func tooLarge() error {
	return fedid.Errorf(fedid.KindRequestTooLarge, "Request body is larger than %d bytes.", MaxBodyBytes)
}

// Decode parses a request body into v. An empty body is {}. Unknown members
// are ignored so newer SDKs keep working; everything else is strict, one
// rule for every operation, because a lenient decoder lets different inputs
// name the same stored value (two users collapsing onto one identity):
//
//   - a string that is not valid UTF-8, or a \u escape that is a lone
//     surrogate, is refused, never repaired;
//   - member names match the model exactly (no case folding), and a member
//     given twice is refused;
//   - null as a map value or list element is refused (null stands for an
//     absent member only);
//   - a value of the wrong JSON type is refused.
//
// Each is a SerializationException. The strict reading is go-json-experiment
// (the json/v2 design, whose defaults are these rules); the FastDecoder path
// of hot requests takes only plain ASCII without escapes or repeats and
// steps aside for anything else, so it never decides differently.
func Decode(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return fedid.Errorf(fedid.KindSerialization, "Request body must be a JSON object.")
	}
	if in, ok := v.(*identity.GetOpenIdTokenForDeveloperIdentityInput); ok && decodeDeveloperToken(body, in) {
		return nil
	}
	if !utf8.Valid(body) {
		return fedid.Errorf(fedid.KindSerialization, "Request body is not valid UTF-8.")
	}
	if err := jsonv2.Unmarshal(body, v, strictOptions); err != nil {
		return decodeError(err)
	}
	return nil
}

// strictOptions are json/v2's defaults (exact names, duplicates and invalid
// UTF-8 refused) with null refused where the model has a map value or a
// list element: strings, and the structures that appear in lists and maps.
var strictOptions = jsonv2.WithUnmarshalers(jsonv2.JoinUnmarshalers(
	jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ *string) error { return refuseNull(dec) }),
	jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ *identity.CognitoProviderInput) error { return refuseNull(dec) }),
	jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ *identity.RoleMapping) error { return refuseNull(dec) }),
	jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ *identity.MappingRule) error { return refuseNull(dec) }),
))

// refuseNull is called for every JSON value decoded into a Go string or an
// Element. A pointer member takes null as "absent" before this is reached,
// so what arrives here are exactly map values and list elements.
func refuseNull(dec *jsontext.Decoder) error {
	if dec.PeekKind() == 'n' {
		return errNull
	}
	return errors.ErrUnsupported // decode as usual
}

var errNull = errors.New("null value")

// decodeError turns a json/v2 error into the SerializationException a
// client sees. It names where the problem is (a JSON pointer, clipped),
// never the offending value.
func decodeError(err error) error {
	var (
		se  *jsonv2.SemanticError
		syn *jsontext.SyntacticError
		at  string
	)
	switch {
	case errors.As(err, &se):
		at = string(se.JSONPointer)
	case errors.As(err, &syn):
		at = string(syn.JSONPointer)
	}
	where := ""
	if at != "" {
		where = " at " + fedid.Clip(at)
	}
	switch {
	case errors.Is(err, errNull):
		return fedid.Errorf(fedid.KindSerialization, "Unexpected null%s: a map value or list element must not be null.", where)
	case errors.Is(err, jsontext.ErrDuplicateName):
		return fedid.Errorf(fedid.KindSerialization, "Member given more than once%s.", where)
	case syn != nil && strings.Contains(syn.Err.Error(), "surrogate"):
		return fedid.Errorf(fedid.KindSerialization, "String%s has an escaped lone surrogate: not valid UTF-8.", where)
	case se != nil && se.GoType != nil && se.JSONKind != 0:
		return fedid.Errorf(fedid.KindSerialization, "Unexpected JSON %s%s for a member of type %s.",
			kindName(se.JSONKind), where, jsonTypeName(se.GoType.String()))
	default:
		return fedid.Errorf(fedid.KindSerialization, "Request body is not valid JSON%s.", where)
	}
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "boolean"
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}

func jsonTypeName(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case t == "string":
		return "string"
	case t == "bool":
		return "boolean"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		return "number"
	case strings.HasPrefix(t, "map["):
		return "map"
	case strings.HasPrefix(t, "[]"):
		return "list"
	default:
		return "structure"
	}
}

package fedid

import (
	"errors"
	"fmt"
)

// Kind classifies a domain error. The wire layer (internal/awsjson) owns the
// single table from Kind to the AWS exception name and HTTP status.
type Kind uint8

// The kinds of error fedid reports. The first group mirrors the exceptions of
// the cognito-identity service model; the second the framework errors that
// AWS JSON services send outside the model (schema validation, protocol and
// authentication failures).
const (
	// KindInternal is anything unexpected. Its message is never sent; the
	// client sees a generic text.
	KindInternal Kind = iota
	KindInvalidParameter
	KindResourceNotFound
	KindNotAuthorized
	KindResourceConflict
	KindTooManyRequests
	KindLimitExceeded
	KindDeveloperUserAlreadyRegistered
	KindInvalidIdentityPoolConfiguration
	KindExternalService
	KindConcurrentModification

	KindValidation
	KindSerialization
	KindUnknownOperation
	KindRequestTooLarge
	KindNotImplemented
	KindMissingAuthenticationToken
	KindIncompleteSignature
	KindInvalidSignature
	KindUnrecognizedClient
	KindAccessDenied

	// kindCount is the number of kinds; tests use it to prove every kind has
	// a wire mapping.
	kindCount
)

// Kinds returns every defined Kind, in declaration order.
func Kinds() []Kind {
	out := make([]Kind, 0, kindCount)
	for k := Kind(0); k < kindCount; k++ {
		out = append(out, k)
	}
	return out
}

var kindNames = [...]string{
	KindInternal:                         "internal",
	KindInvalidParameter:                 "invalid parameter",
	KindResourceNotFound:                 "resource not found",
	KindNotAuthorized:                    "not authorized",
	KindResourceConflict:                 "resource conflict",
	KindTooManyRequests:                  "too many requests",
	KindLimitExceeded:                    "limit exceeded",
	KindDeveloperUserAlreadyRegistered:   "developer user already registered",
	KindInvalidIdentityPoolConfiguration: "invalid identity pool configuration",
	KindExternalService:                  "external service",
	KindConcurrentModification:           "concurrent modification",
	KindValidation:                       "validation",
	KindSerialization:                    "serialization",
	KindUnknownOperation:                 "unknown operation",
	KindRequestTooLarge:                  "request too large",
	KindNotImplemented:                   "not implemented",
	KindMissingAuthenticationToken:       "missing authentication token",
	KindIncompleteSignature:              "incomplete signature",
	KindInvalidSignature:                 "invalid signature",
	KindUnrecognizedClient:               "unrecognized client",
	KindAccessDenied:                     "access denied",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is fedid's one domain error. Message is safe to send to the client;
// Err is the cause and is only logged.
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string {
	switch {
	case e.Err != nil && e.Message != "":
		return e.Kind.String() + ": " + e.Message + ": " + e.Err.Error()
	case e.Err != nil:
		return e.Kind.String() + ": " + e.Err.Error()
	default:
		return e.Kind.String() + ": " + e.Message
	}
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of kind k whose client-safe message is formatted
// from format and args.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected cause. The cause is logged, never sent.
func Internal(op string, err error) *Error {
	return &Error{Kind: KindInternal, Err: fmt.Errorf("%s: %w", op, err)}
}

// ErrorKind returns the Kind of err: the Kind of the first *Error in its
// chain, or KindInternal.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrorMessage returns the client-safe message of err, or "" when err is not
// an *Error (the caller then uses a generic text).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

// Sentinel errors that Store implementations return; the business rules in
// internal/identity translate them into kinds with the service's messages.
var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate means a write broke a uniqueness rule of the store (a login
	// already linked, an ID already taken). The caller re-reads and decides.
	ErrDuplicate = errors.New("duplicate")
	// ErrVersion means an optimistic write found a newer version stored.
	ErrVersion = errors.New("version mismatch")
)

// ClipLen is the most characters of a client's value an error message
// quotes.
const ClipLen = 256

// Clip cuts a value quoted in an error message to ClipLen characters,
// marking the cut with "...": an error never echoes a whole request.
func Clip(s string) string { return ClipTo(s, ClipLen) }

// ClipTo cuts s to n characters (never inside one), marking the cut with
// "...". The one clipper of values quoted in messages.
func ClipTo(s string, n int) string {
	count := 0
	for i := range s {
		if count == n {
			return s[:i] + "..."
		}
		count++
	}
	return s
}

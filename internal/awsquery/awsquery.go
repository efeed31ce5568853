// Package awsquery answers the AWS query-protocol calls fedid serves on its
// own port: STS GetCallerIdentity (signing name "sts"), so that a request
// signed with credentials fedid issued can be traced to its assumed-role
// session, and IAM's OpenID Connect and SAML provider calls (signing name
// "iam"), so that `aws iam create-open-id-connect-provider --endpoint-url …`
// and `aws iam create-saml-provider …` register the providers identity
// pools trust.
package awsquery

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/fedid/fedid"
)

// Verifier authenticates a request signed for one service.
type Verifier interface {
	Verify(ctx context.Context, r *http.Request, body []byte) (fedid.Caller, error)
}

// maxBody bounds a query request body: room for a SAML metadata document
// (real ones run to tens of kilobytes), URL-encoded.
const maxBody = 1 << 20

// IsQuery reports whether a request is an AWS query-protocol call (a form
// body and no X-Amz-Target).
func IsQuery(r *http.Request) bool {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	return r.Header.Get("X-Amz-Target") == "" && strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

// Handler serves the query protocol.
type Handler struct {
	STS, IAM  Verifier
	Providers ProviderStore
	Log       *slog.Logger
	// Clock stamps registrations; nil is the system clock.
	Clock fedid.Clock
}

func (h *Handler) now() time.Time {
	if h.Clock == nil {
		return time.Now()
	}
	return h.Clock.Now()
}

// apiError is a query-protocol error.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func queryErr(status int, code, format string, args ...any) error {
	return &apiError{status: status, code: code, message: sprintf(format, args...)}
}

// authCodes maps fedid's authentication kinds to the query services' codes.
var authCodes = map[fedid.Kind]string{
	fedid.KindMissingAuthenticationToken: "MissingAuthenticationToken",
	fedid.KindIncompleteSignature:        "IncompleteSignature",
	fedid.KindInvalidSignature:           "SignatureDoesNotMatch",
	fedid.KindUnrecognizedClient:         "InvalidClientTokenId",
	fedid.KindAccessDenied:               "AccessDenied",
}

type action struct {
	namespace string
	iam       bool
	run       func(h *Handler, ctx context.Context, c fedid.Caller, form url.Values) (any, error)
}

var actions = map[string]action{
	"GetCallerIdentity":           {stsNS, false, (*Handler).getCallerIdentity},
	"CreateOpenIDConnectProvider": {iamNS, true, (*Handler).createProvider},
	"GetOpenIDConnectProvider":    {iamNS, true, (*Handler).getProvider},
	"ListOpenIDConnectProviders":  {iamNS, true, (*Handler).listProviders},
	"DeleteOpenIDConnectProvider": {iamNS, true, (*Handler).deleteProvider},
	"CreateSAMLProvider":          {iamNS, true, (*Handler).createSAML},
	"GetSAMLProvider":             {iamNS, true, (*Handler).getSAML},
	"ListSAMLProviders":           {iamNS, true, (*Handler).listSAML},
	"UpdateSAMLProvider":          {iamNS, true, (*Handler).updateSAML},
	"DeleteSAMLProvider":          {iamNS, true, (*Handler).deleteSAML},
}

const (
	stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"
	iamNS = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// ServeHTTP answers one query-protocol request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	w.Header()["x-amzn-RequestId"] = []string{reqID}
	ns := stsNS
	start := time.Now()
	var action, account string
	out, err := func() (any, error) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			return nil, queryErr(400, "InvalidParameterValue", "The request body could not be read.")
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, queryErr(400, "MalformedQueryString", "The request body is not a valid query string.")
		}
		// As on the JSON API: invalid UTF-8 is refused, never repaired.
		for k, vs := range form {
			if !utf8.ValidString(k) || slices.ContainsFunc(vs, invalidUTF8) {
				return nil, queryErr(400, "MalformedQueryString", "A parameter name or value is not valid UTF-8.")
			}
		}
		name := form.Get("Action")
		action = fedid.ClipTo(name, 64)
		a, ok := actions[name]
		if !ok {
			return nil, queryErr(400, "InvalidAction", "Could not find operation %s", fedid.ClipTo(name, 64))
		}
		ns = a.namespace
		v := h.STS
		if a.iam {
			v = h.IAM
		}
		// A peer's half-close does not cancel the work (as on the JSON API).
		ctx := context.WithoutCancel(r.Context())
		c, err := v.Verify(ctx, r, body)
		if err != nil {
			return nil, err
		}
		account = c.Account
		if a.iam && c.Session {
			return nil, queryErr(403, "AccessDenied", "User: %s is not authorized to perform: iam:%s", c.ARN, name)
		}
		return a.run(h, ctx, c, form)
	}()
	status, code := http.StatusOK, ""
	if err != nil {
		status, code = h.writeError(w, ns, reqID, err)
	} else {
		writeXML(w, http.StatusOK, out)
	}
	// One line per request, as the JSON API writes (internal/server): no
	// parameter value is logged.
	h.log().LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("operation", action), slog.Int("status", status), slog.String("error_code", code),
		slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("account", account), slog.String("request_id", reqID), slog.String("remote", r.RemoteAddr))
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.Default()
	}
	return h.Log
}

func (h *Handler) writeError(w http.ResponseWriter, ns, reqID string, err error) (status int, code string) {
	var e errorResponse
	e.Xmlns, e.RequestID = ns, reqID
	e.Error.Type = "Sender"
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		e.Error.Code, e.Error.Message = ae.code, ae.message
		writeXML(w, ae.status, e)
		return ae.status, ae.code
	case authCodes[fedid.ErrorKind(err)] != "":
		e.Error.Code, e.Error.Message = authCodes[fedid.ErrorKind(err)], fedid.ErrorMessage(err)
		writeXML(w, http.StatusForbidden, e)
		return http.StatusForbidden, e.Error.Code
	}
	h.log().Error("query request failed", "request_id", reqID, "err", err)
	e.Error.Type, e.Error.Code, e.Error.Message = "Receiver", "InternalFailure", "An internal error occurred."
	writeXML(w, http.StatusInternalServerError, e)
	return http.StatusInternalServerError, e.Error.Code
}

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

type callerIdentity struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
}

func (h *Handler) getCallerIdentity(_ context.Context, c fedid.Caller, _ url.Values) (any, error) {
	var out callerIdentity
	out.Xmlns = stsNS
	out.Result.Account, out.Result.Arn, out.Result.UserID = c.Account, c.ARN, c.Account
	if c.Session {
		out.Result.UserID = RoleID(c.ARN) + ":" + fedid.SessionName
	}
	return out, nil
}

// RoleID is a stable, AWS-shaped unique ID (AROA…) for the role of an
// assumed-role ARN.
func RoleID(assumedRoleARN string) string {
	role, _, _ := strings.Cut(strings.TrimPrefix(assumedRoleARN, "arn:aws:sts::"), "/"+fedid.SessionName)
	sum := sha256.Sum256([]byte(role))
	return "AROA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

func invalidUTF8(s string) bool { return !utf8.ValidString(s) }

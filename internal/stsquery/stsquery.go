// Package stsquery answers STS GetCallerIdentity (the AWS query protocol,
// signing name "sts") on fedid's own port, so that a request signed with
// credentials fedid issued can be traced back to its assumed-role session,
// as API gateways, test harnesses and other emulators do with AWS STS.
package stsquery

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/fedid/fedid"
)

// Verifier authenticates a request signed for STS.
type Verifier interface {
	Verify(ctx context.Context, r *http.Request, body []byte) (fedid.Caller, error)
}

const xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"

// maxBody bounds a query request body.
const maxBody = 64 << 10

// IsQuery reports whether a request is an AWS query-protocol call (a form
// body and no X-Amz-Target).
func IsQuery(r *http.Request) bool {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	return r.Header.Get("X-Amz-Target") == "" && strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

type callerIdentity struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
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

// codes maps fedid's authentication kinds to STS error codes.
var codes = map[fedid.Kind]string{
	fedid.KindMissingAuthenticationToken: "MissingAuthenticationToken",
	fedid.KindIncompleteSignature:        "IncompleteSignature",
	fedid.KindInvalidSignature:           "SignatureDoesNotMatch",
	fedid.KindUnrecognizedClient:         "InvalidClientTokenId",
}

// Handler answers STS query requests.
func Handler(v Verifier, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		reqID := uuid.NewString()
		w.Header()["x-amzn-RequestId"] = []string{reqID}
		fail := func(status int, code, msg string) {
			var e errorResponse
			e.Xmlns, e.RequestID = xmlns, reqID
			e.Error.Type, e.Error.Code, e.Error.Message = "Sender", code, msg
			if status >= 500 {
				e.Error.Type = "Receiver"
			}
			writeXML(w, status, e)
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			fail(http.StatusBadRequest, "InvalidParameterValue", "The request body could not be read.")
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			fail(http.StatusBadRequest, "MalformedQueryString", "The request body is not a valid query string.")
			return
		}
		if a := form.Get("Action"); a != "GetCallerIdentity" {
			fail(http.StatusBadRequest, "InvalidAction", "Could not find operation "+truncate(a, 64)+" for version 2011-06-15")
			return
		}
		c, err := v.Verify(r.Context(), r, body)
		if err != nil {
			code, ok := codes[fedid.ErrorKind(err)]
			if !ok {
				log.Error("sts: verify", "request_id", reqID, "err", err)
				fail(http.StatusInternalServerError, "InternalFailure", "An internal error occurred.")
				return
			}
			fail(http.StatusForbidden, code, fedid.ErrorMessage(err))
			return
		}
		var out callerIdentity
		out.Xmlns, out.RequestID = xmlns, reqID
		out.Result.Account = c.Account
		out.Result.Arn = c.ARN
		out.Result.UserID = c.Account
		if c.Session {
			out.Result.UserID = RoleID(c.ARN) + ":" + fedid.SessionName
		}
		writeXML(w, http.StatusOK, out)
	}
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

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

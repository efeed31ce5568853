package server

import (
	"context"
	"net/http"

	"github.com/fedid/fedid/internal/awsjson"
)

// ResetFunc empties the store but for its access keys and applies the
// declared state again; it returns what to answer (a summary).
type ResetFunc func(ctx context.Context) (any, error)

// reset serves POST /fedid/reset, which exists only in development mode
// (Config.Reset set): like moto's reset, between two tests. It is signed
// as any API request (service cognito-identity) by any access key of any
// account; temporary credentials cannot reset.
func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	reqID := requestID()
	w.Header()["x-amzn-RequestId"] = []string{reqID}
	out, err := s.doReset(r)
	if err != nil {
		ex := awsjson.WriteError(w, err)
		s.logError(r.Context(), reqID, "Reset", ex, err)
		return
	}
	s.cfg.Logger.Warn("store reset (development mode): every pool, identity, OIDC provider and session deleted; declared state applied again", "request_id", reqID)
	_ = awsjson.WriteJSON(w, out)
}

func (s *Server) doReset(r *http.Request) (any, error) {
	if _, _, err := s.accountPost(r, "reset fedid"); err != nil {
		return nil, err
	}
	return s.cfg.Reset(context.WithoutCancel(r.Context()))
}

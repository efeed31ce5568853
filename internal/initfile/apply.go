package initfile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/identity"
	"github.com/fedid/fedid/internal/store/sqlite"
)

// Result counts what applying a file did.
type Result struct {
	Created, Updated, Unchanged int
	// NotInFile counts the stored pools the file does not declare: they
	// are left as they are (remove them through the API).
	NotInFile int
}

func (r Result) String() string {
	return fmt.Sprintf("%d created, %d updated, %d unchanged; %d stored pools not in the file, left as they are",
		r.Created, r.Updated, r.Unchanged, r.NotInFile)
}

func (r *Result) count(created, changed bool) {
	switch {
	case created:
		r.Created++
	case changed:
		r.Updated++
	default:
		r.Unchanged++
	}
}

// Apply makes the store hold what the file declares, through the identity
// service's operations. Applying the same file again changes nothing; a
// changed member is updated; what the file no longer declares stays.
func Apply(ctx context.Context, f *File, st fedid.Store, svc *identity.Service, now time.Time) (Result, error) {
	var r Result
	for _, k := range f.AccessKeys {
		old, err := st.GetAccessKey(ctx, k.Key.ID)
		switch {
		case errors.Is(err, fedid.ErrNotFound):
			k.Key.Created = now
			err = st.PutAccessKey(ctx, k.Key)
			r.count(true, false)
		case err == nil && (old.Secret != k.Key.Secret || old.Account != k.Key.Account):
			k.Key.Created = old.Created
			err = st.PutAccessKey(ctx, k.Key)
			r.count(false, true)
		case err == nil:
			r.count(false, false)
		}
		if err != nil {
			return r, k.wrap("", err)
		}
	}
	for _, p := range f.Providers {
		created, changed, err := applyProvider(ctx, st, p, now)
		if err != nil {
			return r, p.wrap("", err)
		}
		r.count(created, changed)
	}
	for _, p := range f.SAMLProviders {
		created, changed, err := applySAMLProvider(ctx, st, p, now)
		if err != nil {
			return r, err
		}
		r.count(created, changed)
	}
	declared := map[string]bool{}
	for _, p := range f.Pools {
		created, changed, err := applyPool(ctx, svc, p)
		if err != nil {
			return r, err
		}
		r.count(created, changed)
		declared[p.ID] = true
	}
	stored, err := allPools(ctx, st)
	if err != nil {
		return r, err
	}
	for _, p := range stored {
		if !declared[p.ID] {
			r.NotInFile++
		}
	}
	return r, nil
}

func applyProvider(ctx context.Context, st fedid.Store, d Provider, now time.Time) (created, changed bool, err error) {
	p, err := fedid.NewOIDCProvider(d.Account, d.URL, d.ClientIDs, d.Thumbprints, now)
	if err != nil {
		return false, false, d.wrap("Url", err)
	}
	p.JWKSURL, p.JWKS = d.JWKSURL, d.JWKS
	old, err := st.GetOIDCProvider(ctx, p.ARN)
	switch {
	case errors.Is(err, fedid.ErrNotFound):
		created = true
	case err != nil:
		return false, false, err
	default:
		p.CreatedAt = old.CreatedAt
		if old.URL == p.URL && slices.Equal(old.ClientIDs, p.ClientIDs) && slices.Equal(old.Thumbprints, p.Thumbprints) &&
			old.JWKSURL == p.JWKSURL && bytes.Equal(old.JWKS, p.JWKS) {
			return false, false, nil
		}
		changed = true
	}
	return created, changed, st.PutOIDCProvider(ctx, p)
}

func applyPool(ctx context.Context, svc *identity.Service, d Pool) (created, changed bool, err error) {
	c := fedid.Caller{Account: d.Account, Region: d.Region, ARN: "arn:" + fedid.Partition + ":iam::" + d.Account + ":root"}
	id := d.ID
	cur, err := svc.DescribeIdentityPool(ctx, c, &identity.PoolIDInput{IdentityPoolId: &id})
	switch {
	case fedid.ErrorKind(err) == fedid.KindResourceNotFound:
		if _, err := svc.CreateIdentityPoolWithID(ctx, c, id, &d.Create); err != nil {
			return false, false, d.wrap(memberOr(err, d.at, "IdentityPoolId"), err)
		}
		created = true
	case err != nil:
		return false, false, d.wrap("IdentityPoolId", err)
	default:
		if !samePool(cur, &d.Create) {
			in := &identity.UpdateIdentityPoolInput{IdentityPoolId: &id, CreateIdentityPoolInput: d.Create}
			if in.IdentityPoolTags == nil {
				in.IdentityPoolTags = map[string]string{} // the file declares none: none
			}
			if _, err := svc.UpdateIdentityPool(ctx, c, in); err != nil {
				return false, false, d.wrap("", err)
			}
			changed = true
		}
	}
	roles, err := svc.GetIdentityPoolRoles(ctx, c, &identity.PoolIDInput{IdentityPoolId: &id})
	if err != nil {
		return false, false, d.wrap("", err)
	}
	if !sameJSON(orEmpty(roles.Roles), orEmpty(d.Roles.Roles)) || !sameJSON(orEmpty(roles.RoleMappings), orEmpty(d.Roles.RoleMappings)) {
		in := d.Roles
		in.IdentityPoolId = &id
		if in.Roles == nil {
			in.Roles = map[string]string{}
		}
		if _, err := svc.SetIdentityPoolRoles(ctx, c, &in); err != nil {
			def := "Roles"
			if in.RoleMappings != nil {
				def = "RoleMappings"
			}
			return false, false, d.wrap(memberOr(err, d.at, def), err)
		}
		changed = changed || !created
	}
	for _, tm := range d.TagMaps {
		in := tm.In
		in.IdentityPoolId = &id
		cur, err := svc.GetPrincipalTagAttributeMap(ctx, c, &in)
		if err != nil {
			return false, false, tm.wrap("IdentityProviderName", err)
		}
		useDefaults := in.UseDefaults != nil && *in.UseDefaults
		if cur.UseDefaults == useDefaults && (useDefaults || sameJSON(orEmpty(cur.PrincipalTags), orEmpty(in.PrincipalTags))) {
			continue
		}
		if _, err := svc.SetPrincipalTagAttributeMap(ctx, c, &in); err != nil {
			return false, false, tm.wrap("", err)
		}
		changed = changed || !created
	}
	for _, u := range d.DevUsers {
		_, linked, err := svc.LinkDeveloperUser(ctx, c, id, u.User, u.IdentityID)
		if err != nil {
			return false, false, u.wrap("", err)
		}
		changed = changed || (linked && !created)
	}
	return created, changed, nil
}

// memberOr is the member an error names, or def.
func memberOr(err error, a at, def string) string {
	if m := a.memberIn(message(err)); m != "" {
		return m
	}
	return def
}

// samePool reports whether a stored pool already has what a declaration
// says. A DeveloperProviderName the file leaves out is not compared: once
// set it cannot be removed.
func samePool(cur *identity.IdentityPool, in *identity.CreateIdentityPoolInput) bool {
	want := identity.IdentityPool{
		IdentityPoolId:                 cur.IdentityPoolId,
		IdentityPoolName:               deref_(in.IdentityPoolName),
		AllowUnauthenticatedIdentities: in.AllowUnauthenticatedIdentities != nil && *in.AllowUnauthenticatedIdentities,
		AllowClassicFlow:               in.AllowClassicFlow,
		SupportedLoginProviders:        in.SupportedLoginProviders,
		DeveloperProviderName:          deref_(in.DeveloperProviderName),
		OpenIdConnectProviderARNs:      in.OpenIdConnectProviderARNs,
		SamlProviderARNs:               in.SamlProviderARNs,
		IdentityPoolTags:               in.IdentityPoolTags,
	}
	if want.DeveloperProviderName == "" {
		want.DeveloperProviderName = cur.DeveloperProviderName
	}
	for _, p := range in.CognitoIdentityProviders {
		want.CognitoIdentityProviders = append(want.CognitoIdentityProviders, identity.CognitoProvider{
			ProviderName: deref_(p.ProviderName), ClientId: deref_(p.ClientId),
			ServerSideTokenCheck: p.ServerSideTokenCheck != nil && *p.ServerSideTokenCheck})
	}
	return sameJSON(normalize(want), normalize(*cur))
}

// normalize makes empty maps and lists absent, as the API renders them.
func normalize(p identity.IdentityPool) identity.IdentityPool {
	if len(p.SupportedLoginProviders) == 0 {
		p.SupportedLoginProviders = nil
	}
	if len(p.OpenIdConnectProviderARNs) == 0 {
		p.OpenIdConnectProviderARNs = nil
	}
	if len(p.SamlProviderARNs) == 0 {
		p.SamlProviderARNs = nil
	}
	if len(p.CognitoIdentityProviders) == 0 {
		p.CognitoIdentityProviders = nil
	}
	if len(p.IdentityPoolTags) == 0 {
		p.IdentityPoolTags = nil
	}
	return p
}

func orEmpty[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

// sameJSON compares two values by their JSON (maps in key order).
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func deref_(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// allPools lists every stored pool.
func allPools(ctx context.Context, st fedid.Reader) ([]*fedid.Pool, error) {
	var out []*fedid.Pool
	var after fedid.Cursor
	for {
		page, err := st.ListPools(ctx, "", "", after, 500)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 500 {
			return out, nil
		}
		last := page[len(page)-1]
		after = fedid.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
}

// Check applies the file to a scratch SQLite store in a temporary folder,
// which checks every value exactly as applying it to a real store would,
// without a server.
func Check(ctx context.Context, f *File) (Result, error) {
	dir, err := os.MkdirTemp("", "fedid-init-check-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, dir+"/check.db")
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	svc := identity.New(identity.Deps{Store: st}, identity.Config{Issuer: "http://127.0.0.1"})
	return Apply(ctx, f, st, svc, time.Now())
}

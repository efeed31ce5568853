package server

import (
	"context"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/awsjson"
	"github.com/fedid/fedid/internal/identity"
)

// operation is one entry of the operation table.
type operation struct {
	// signed operations need SigV4 developer credentials; the four public
	// ones (model authtype none) do not, and a signature on them is
	// ignored (spec 2.1, Q22).
	signed bool
	// run is nil while the operation is not implemented.
	run func(ctx context.Context, c fedid.Caller, body []byte) (any, error)
}

// withCaller adapts a signed service method.
func withCaller[In, Out any](f func(context.Context, fedid.Caller, *In) (*Out, error)) func(context.Context, fedid.Caller, []byte) (any, error) {
	return func(ctx context.Context, c fedid.Caller, body []byte) (any, error) {
		in := new(In)
		if err := awsjson.Decode(body, in); err != nil {
			return nil, err
		}
		return f(ctx, c, in)
	}
}

// public adapts an unsigned service method.
func public[In, Out any](f func(context.Context, *In) (*Out, error)) func(context.Context, fedid.Caller, []byte) (any, error) {
	return func(ctx context.Context, _ fedid.Caller, body []byte) (any, error) {
		in := new(In)
		if err := awsjson.Decode(body, in); err != nil {
			return nil, err
		}
		return f(ctx, in)
	}
}

// OperationNames lists the 23 operations of cognito-identity 2014-06-30.
var OperationNames = []string{
	"CreateIdentityPool", "DeleteIdentities", "DeleteIdentityPool", "DescribeIdentity",
	"DescribeIdentityPool", "GetCredentialsForIdentity", "GetId", "GetIdentityPoolRoles",
	"GetOpenIdToken", "GetOpenIdTokenForDeveloperIdentity", "GetPrincipalTagAttributeMap",
	"ListIdentities", "ListIdentityPools", "ListTagsForResource", "LookupDeveloperIdentity",
	"MergeDeveloperIdentities", "SetIdentityPoolRoles", "SetPrincipalTagAttributeMap",
	"TagResource", "UnlinkDeveloperIdentity", "UnlinkIdentity", "UntagResource", "UpdateIdentityPool",
}

// unsigned are the operations the model marks authtype none.
var unsigned = map[string]bool{
	"GetId": true, "GetOpenIdToken": true, "GetCredentialsForIdentity": true, "UnlinkIdentity": true,
}

func operations(svc *identity.Service) map[string]operation {
	ops := make(map[string]operation, len(OperationNames))
	for _, n := range OperationNames {
		ops[n] = operation{signed: !unsigned[n]}
	}
	set := func(name string, run func(context.Context, fedid.Caller, []byte) (any, error)) {
		op := ops[name]
		op.run = run
		ops[name] = op
	}
	set("CreateIdentityPool", withCaller(svc.CreateIdentityPool))
	set("DescribeIdentityPool", withCaller(svc.DescribeIdentityPool))
	set("UpdateIdentityPool", withCaller(svc.UpdateIdentityPool))
	set("DeleteIdentityPool", withCaller(svc.DeleteIdentityPool))
	set("ListIdentityPools", withCaller(svc.ListIdentityPools))
	set("TagResource", withCaller(svc.TagResource))
	set("UntagResource", withCaller(svc.UntagResource))
	set("ListTagsForResource", withCaller(svc.ListTagsForResource))
	set("GetOpenIdTokenForDeveloperIdentity", withCaller(svc.GetOpenIdTokenForDeveloperIdentity))
	set("LookupDeveloperIdentity", withCaller(svc.LookupDeveloperIdentity))
	set("MergeDeveloperIdentities", withCaller(svc.MergeDeveloperIdentities))
	set("UnlinkDeveloperIdentity", withCaller(svc.UnlinkDeveloperIdentity))
	set("DescribeIdentity", withCaller(svc.DescribeIdentity))
	set("ListIdentities", withCaller(svc.ListIdentities))
	set("DeleteIdentities", withCaller(svc.DeleteIdentities))
	set("GetOpenIdToken", public(svc.GetOpenIdToken))
	set("GetId", public(svc.GetId))
	set("UnlinkIdentity", public(svc.UnlinkIdentity))
	set("GetCredentialsForIdentity", public(svc.GetCredentialsForIdentity))
	set("SetIdentityPoolRoles", withCaller(svc.SetIdentityPoolRoles))
	set("GetIdentityPoolRoles", withCaller(svc.GetIdentityPoolRoles))
	set("SetPrincipalTagAttributeMap", withCaller(svc.SetPrincipalTagAttributeMap))
	set("GetPrincipalTagAttributeMap", withCaller(svc.GetPrincipalTagAttributeMap))
	return ops
}

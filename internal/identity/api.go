package identity

import "time"

// Request and response shapes of the cognito-identity 2014-06-30 model, with
// the wire's member names. They are plain values: the wire package
// (internal/awsjson) decodes and encodes them, timestamps included. Request members are pointers so that "absent"
// (or JSON null) and "empty" differ, as the model's required checks need.

// CognitoProviderInput is one CognitoIdentityProvider in a request.
type CognitoProviderInput struct {
	ProviderName         *string `json:"ProviderName"`
	ClientId             *string `json:"ClientId"`
	ServerSideTokenCheck *bool   `json:"ServerSideTokenCheck"`
}

// CreateIdentityPoolInput is the CreateIdentityPool request.
type CreateIdentityPoolInput struct {
	IdentityPoolName               *string                `json:"IdentityPoolName"`
	AllowUnauthenticatedIdentities *bool                  `json:"AllowUnauthenticatedIdentities"`
	AllowClassicFlow               *bool                  `json:"AllowClassicFlow"`
	SupportedLoginProviders        map[string]string      `json:"SupportedLoginProviders"`
	DeveloperProviderName          *string                `json:"DeveloperProviderName"`
	OpenIdConnectProviderARNs      []string               `json:"OpenIdConnectProviderARNs"`
	CognitoIdentityProviders       []CognitoProviderInput `json:"CognitoIdentityProviders"`
	SamlProviderARNs               []string               `json:"SamlProviderARNs"`
	IdentityPoolTags               map[string]string      `json:"IdentityPoolTags"`
}

// UpdateIdentityPoolInput is the UpdateIdentityPool request: the IdentityPool
// shape.
type UpdateIdentityPoolInput struct {
	IdentityPoolId *string `json:"IdentityPoolId"`
	CreateIdentityPoolInput
}

// CognitoProvider is one CognitoIdentityProvider in a response.
type CognitoProvider struct {
	ProviderName         string `json:"ProviderName,omitempty"`
	ClientId             string `json:"ClientId,omitempty"`
	ServerSideTokenCheck bool   `json:"ServerSideTokenCheck"`
}

// IdentityPool is the IdentityPool shape of responses. Empty optional
// members are omitted, as in the real service's responses.
type IdentityPool struct {
	IdentityPoolId                 string            `json:"IdentityPoolId"`
	IdentityPoolName               string            `json:"IdentityPoolName"`
	AllowUnauthenticatedIdentities bool              `json:"AllowUnauthenticatedIdentities"`
	AllowClassicFlow               *bool             `json:"AllowClassicFlow,omitempty"`
	SupportedLoginProviders        map[string]string `json:"SupportedLoginProviders,omitempty"`
	DeveloperProviderName          string            `json:"DeveloperProviderName,omitempty"`
	OpenIdConnectProviderARNs      []string          `json:"OpenIdConnectProviderARNs,omitempty"`
	CognitoIdentityProviders       []CognitoProvider `json:"CognitoIdentityProviders,omitempty"`
	SamlProviderARNs               []string          `json:"SamlProviderARNs,omitempty"`
	IdentityPoolTags               map[string]string `json:"IdentityPoolTags,omitempty"`
}

// PoolIDInput is the request of the operations that take only a pool ID.
type PoolIDInput struct {
	IdentityPoolId *string `json:"IdentityPoolId"`
}

// Empty is the empty response body {}.
type Empty struct{}

// ListIdentityPoolsInput is the ListIdentityPools request.
type ListIdentityPoolsInput struct {
	MaxResults *int64  `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

// PoolSummary is IdentityPoolShortDescription.
type PoolSummary struct {
	IdentityPoolId   string `json:"IdentityPoolId"`
	IdentityPoolName string `json:"IdentityPoolName"`
}

// ListIdentityPoolsOutput is the ListIdentityPools response.
type ListIdentityPoolsOutput struct {
	IdentityPools []PoolSummary `json:"IdentityPools"`
	NextToken     string        `json:"NextToken,omitempty"`
}

// TagResourceInput is the TagResource request.
type TagResourceInput struct {
	ResourceArn *string           `json:"ResourceArn"`
	Tags        map[string]string `json:"Tags"`
}

// UntagResourceInput is the UntagResource request.
type UntagResourceInput struct {
	ResourceArn *string  `json:"ResourceArn"`
	TagKeys     []string `json:"TagKeys"`
}

// ResourceInput is the ListTagsForResource request.
type ResourceInput struct {
	ResourceArn *string `json:"ResourceArn"`
}

// TagsOutput is the ListTagsForResource response.
type TagsOutput struct {
	Tags map[string]string `json:"Tags"`
}

// GetOpenIdTokenForDeveloperIdentityInput is that operation's request.
type GetOpenIdTokenForDeveloperIdentityInput struct {
	IdentityPoolId *string           `json:"IdentityPoolId"`
	IdentityId     *string           `json:"IdentityId"`
	Logins         map[string]string `json:"Logins"`
	PrincipalTags  map[string]string `json:"PrincipalTags"`
	TokenDuration  *int64            `json:"TokenDuration"`
}

// TokenOutput is the response of the token operations.
type TokenOutput struct {
	IdentityId string `json:"IdentityId"`
	Token      string `json:"Token"`
}

// GetOpenIdTokenInput is the GetOpenIdToken request.
type GetOpenIdTokenInput struct {
	IdentityId *string           `json:"IdentityId"`
	Logins     map[string]string `json:"Logins"`
}

// LookupDeveloperIdentityInput is the LookupDeveloperIdentity request.
type LookupDeveloperIdentityInput struct {
	IdentityPoolId          *string `json:"IdentityPoolId"`
	IdentityId              *string `json:"IdentityId"`
	DeveloperUserIdentifier *string `json:"DeveloperUserIdentifier"`
	MaxResults              *int64  `json:"MaxResults"`
	NextToken               *string `json:"NextToken"`
}

// LookupDeveloperIdentityOutput is the LookupDeveloperIdentity response.
type LookupDeveloperIdentityOutput struct {
	IdentityId                  string   `json:"IdentityId"`
	DeveloperUserIdentifierList []string `json:"DeveloperUserIdentifierList"`
	NextToken                   string   `json:"NextToken,omitempty"`
}

// MergeDeveloperIdentitiesInput is the MergeDeveloperIdentities request.
type MergeDeveloperIdentitiesInput struct {
	SourceUserIdentifier      *string `json:"SourceUserIdentifier"`
	DestinationUserIdentifier *string `json:"DestinationUserIdentifier"`
	DeveloperProviderName     *string `json:"DeveloperProviderName"`
	IdentityPoolId            *string `json:"IdentityPoolId"`
}

// IdentityIDOutput is a response holding only an identity ID.
type IdentityIDOutput struct {
	IdentityId string `json:"IdentityId"`
}

// UnlinkDeveloperIdentityInput is the UnlinkDeveloperIdentity request.
type UnlinkDeveloperIdentityInput struct {
	IdentityId              *string `json:"IdentityId"`
	IdentityPoolId          *string `json:"IdentityPoolId"`
	DeveloperProviderName   *string `json:"DeveloperProviderName"`
	DeveloperUserIdentifier *string `json:"DeveloperUserIdentifier"`
}

// IdentityIDInput is the DescribeIdentity request.
type IdentityIDInput struct {
	IdentityId *string `json:"IdentityId"`
}

// IdentityDescription is the IdentityDescription shape.
type IdentityDescription struct {
	IdentityId       string    `json:"IdentityId"`
	Logins           []string  `json:"Logins,omitempty"`
	CreationDate     time.Time `json:"CreationDate"`
	LastModifiedDate time.Time `json:"LastModifiedDate"`
}

// ListIdentitiesInput is the ListIdentities request.
type ListIdentitiesInput struct {
	IdentityPoolId *string `json:"IdentityPoolId"`
	MaxResults     *int64  `json:"MaxResults"`
	NextToken      *string `json:"NextToken"`
	HideDisabled   *bool   `json:"HideDisabled"`
}

// ListIdentitiesOutput is the ListIdentities response.
type ListIdentitiesOutput struct {
	IdentityPoolId string                `json:"IdentityPoolId"`
	Identities     []IdentityDescription `json:"Identities"`
	NextToken      string                `json:"NextToken,omitempty"`
}

// DeleteIdentitiesInput is the DeleteIdentities request.
type DeleteIdentitiesInput struct {
	IdentityIdsToDelete []string `json:"IdentityIdsToDelete"`
}

// UnprocessedIdentityID is one entry of UnprocessedIdentityIds.
type UnprocessedIdentityID struct {
	IdentityId string `json:"IdentityId"`
	ErrorCode  string `json:"ErrorCode"`
}

// DeleteIdentitiesOutput is the DeleteIdentities response.
type DeleteIdentitiesOutput struct {
	UnprocessedIdentityIds []UnprocessedIdentityID `json:"UnprocessedIdentityIds"`
}

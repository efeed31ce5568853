package identity

import (
	"slices"

	"github.com/fedid/fedid"
)

// samlRole chooses the role of a SAML login from the roles its assertion
// grants (its Role attribute's pairs with this provider), as the service
// does: one role is taken (CustomRoleArn, when given, must name it);
// with several, CustomRoleArn must name one of them.
func samlRole(roles []string, custom *string) (string, error) {
	if custom != nil {
		if slices.Contains(roles, *custom) {
			return *custom, nil
		}
		return "", errCustomRole(*custom)
	}
	if len(roles) == 1 {
		return roles[0], nil
	}
	return "", fedid.Errorf(fedid.KindInvalidParameter,
		"The SAML assertion grants %d roles; name one of them in CustomRoleArn.", len(roles))
}

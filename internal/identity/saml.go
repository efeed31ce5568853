package identity

import (
	"fmt"
	"slices"

	"github.com/fedid/fedid"
)

// samlRole chooses the role of a SAML login from the roles its assertion
// grants (its Role attribute's pairs with this provider), as the service
// does: one role is taken (CustomRoleArn, when given, must name it);
// with several, CustomRoleArn must name one of them.
func samlRole(roles []string, custom *string) (string, RoleReason, error) {
	if custom != nil {
		why := reason(ReasonSAML, "The CustomRoleArn is one of the SAML assertion's roles.")
		why.Custom = true
		if slices.Contains(roles, *custom) {
			return *custom, why, nil
		}
		why.Text = fmt.Sprintf("The CustomRoleArn is not one of the SAML assertion's roles (%d).", len(roles))
		return "", why, errCustomRole(*custom)
	}
	if len(roles) == 1 {
		return roles[0], reason(ReasonSAML, "The SAML assertion's only role."), nil
	}
	return "", reason(ReasonSAML, "The SAML assertion grants %d roles and no CustomRoleArn names one.", len(roles)),
		fedid.Errorf(fedid.KindInvalidParameter,
			"The SAML assertion grants %d roles; name one of them in CustomRoleArn.", len(roles))
}

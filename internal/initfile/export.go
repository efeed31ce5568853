package initfile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/identity"
)

// Export writes the store's state in the file's format: applying it to an
// empty store and exporting again gives the same file. Access keys are
// written with their secrets (keep the file as you keep the database);
// of an identity, only its developer user identifiers can be declared,
// so only identities that have one are written.
func Export(ctx context.Context, st fedid.Store, svc *identity.Service) ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	keys, err := st.ListAccessKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		seq := add(root, "AccessKeys", &yaml.Node{Kind: yaml.SequenceNode})
		// Oldest first, as a file is written.
		for i := len(keys) - 1; i >= 0; i-- {
			k, err := st.GetAccessKey(ctx, keys[i].ID)
			if err != nil {
				return nil, err
			}
			m := &yaml.Node{Kind: yaml.MappingNode}
			add(m, "AccessKeyId", str(k.ID))
			add(m, "SecretAccessKey", str(k.Secret))
			add(m, "Account", str(k.Account))
			seq.Content = append(seq.Content, m)
		}
	}
	provs, err := st.ListOIDCProviders(ctx, "")
	if err != nil {
		return nil, err
	}
	if len(provs) > 0 {
		seq := add(root, "OpenIdConnectProviders", &yaml.Node{Kind: yaml.SequenceNode})
		for _, p := range provs {
			m := &yaml.Node{Kind: yaml.MappingNode}
			add(m, "Account", str(p.Account))
			add(m, "Url", str(p.URL))
			add(m, "ClientIDList", strs(p.ClientIDs))
			if len(p.Thumbprints) > 0 {
				add(m, "ThumbprintList", strs(p.Thumbprints))
			}
			if p.JWKSURL != "" {
				add(m, "JwksUrl", str(p.JWKSURL))
			}
			if len(p.JWKS) > 0 {
				add(m, "Jwks", str(string(p.JWKS)))
			}
			seq.Content = append(seq.Content, m)
		}
	}
	if err := exportSAML(ctx, st, root); err != nil {
		return nil, err
	}
	pools, err := allPools(ctx, st)
	if err != nil {
		return nil, err
	}
	if len(pools) > 0 {
		seq := add(root, "IdentityPools", &yaml.Node{Kind: yaml.SequenceNode})
		for _, p := range pools {
			m, err := exportPool(ctx, st, svc, p)
			if err != nil {
				return nil, fmt.Errorf("export pool %s: %w", p.ID, err)
			}
			seq.Content = append(seq.Content, m)
		}
	}
	var buf bytes.Buffer
	buf.WriteString("# fedid declared state (fedid export): apply with fedid serve --init FILE\n")
	if len(root.Content) == 0 {
		buf.WriteString("{}\n")
		return buf.Bytes(), nil
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func exportPool(ctx context.Context, st fedid.Store, svc *identity.Service, p *fedid.Pool) (*yaml.Node, error) {
	c := fedid.Caller{Account: p.Account, Region: p.Region}
	id := p.ID
	desc, err := svc.DescribeIdentityPool(ctx, c, &identity.PoolIDInput{IdentityPoolId: &id})
	if err != nil {
		return nil, err
	}
	m := &yaml.Node{Kind: yaml.MappingNode}
	add(m, "Account", str(p.Account))
	add(m, "Region", str(p.Region))
	add(m, "IdentityPoolId", str(p.ID))
	// The API's own rendering of the pool, member by member.
	body, err := fromJSON(desc)
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(body.Content); i += 2 {
		if body.Content[i].Value != "IdentityPoolId" {
			m.Content = append(m.Content, body.Content[i], body.Content[i+1])
		}
	}
	roles, err := svc.GetIdentityPoolRoles(ctx, c, &identity.PoolIDInput{IdentityPoolId: &id})
	if err != nil {
		return nil, err
	}
	if len(roles.Roles) > 0 {
		if err := addJSON(m, "Roles", roles.Roles); err != nil {
			return nil, err
		}
	}
	if len(roles.RoleMappings) > 0 {
		if err := addJSON(m, "RoleMappings", roles.RoleMappings); err != nil {
			return nil, err
		}
	}
	tms, err := svc.PrincipalTagMaps(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if len(tms) > 0 {
		seq := add(m, "PrincipalTagAttributeMaps", &yaml.Node{Kind: yaml.SequenceNode})
		for _, tm := range tms {
			n, err := fromJSON(struct {
				IdentityProviderName string
				UseDefaults          bool
				PrincipalTags        map[string]string `json:",omitempty"`
			}{tm.IdentityProviderName, tm.UseDefaults, tm.PrincipalTags})
			if err != nil {
				return nil, err
			}
			seq.Content = append(seq.Content, n)
		}
	}
	if p.DeveloperProviderName != "" {
		var devs []*yaml.Node
		var after fedid.Cursor
		for {
			page, err := st.ListIdentities(ctx, p.ID, after, 500, false)
			if err != nil {
				return nil, err
			}
			for _, x := range page {
				for _, l := range x.Logins {
					if l.Developer {
						d := &yaml.Node{Kind: yaml.MappingNode}
						add(d, "DeveloperUserIdentifier", str(l.Key))
						add(d, "IdentityId", str(x.ID))
						devs = append(devs, d)
					}
				}
			}
			if len(page) < 500 {
				break
			}
			last := page[len(page)-1]
			after = fedid.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
		}
		if len(devs) > 0 {
			add(m, "DeveloperIdentities", &yaml.Node{Kind: yaml.SequenceNode, Content: devs})
		}
	}
	return m, nil
}

// add appends a member to a mapping node and returns its value.
func add(m *yaml.Node, key string, v *yaml.Node) *yaml.Node {
	m.Content = append(m.Content, str(key), v)
	return v
}

func addJSON(m *yaml.Node, key string, v any) error {
	n, err := fromJSON(v)
	if err != nil {
		return err
	}
	add(m, key, n)
	return nil
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func strs(l []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range l {
		n.Content = append(n.Content, str(s))
	}
	return n
}

// fromJSON renders a value as the API's JSON would (member names and
// order included) and returns it as a block-style YAML node.
func fromJSON(v any) (*yaml.Node, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	n := doc.Content[0]
	block(n)
	return n, nil
}

// block clears the flow and quoting styles the JSON came with.
func block(n *yaml.Node) {
	n.Style = 0
	n.Line, n.Column = 0, 0
	for _, c := range n.Content {
		block(c)
	}
}

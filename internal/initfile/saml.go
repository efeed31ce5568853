package initfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fedid/fedid"
)

// SAMLProvider declares an IAM SAML provider: its account, its name and
// its metadata document (the contents of MetadataFile, or Metadata).
type SAMLProvider struct {
	at
	Account  string
	Name     string
	Metadata string
}

var samlFields = []string{"Account", "Name", "MetadataFile", "Metadata"}

func (f *File) parseSAMLProvider(n *yaml.Node, a at) error {
	m, err := mapping(n, a, samlFields)
	if err != nil {
		return err
	}
	a.lines = lines(n)
	p := SAMLProvider{at: a, Account: scalar(m["Account"]), Name: scalar(m["Name"])}
	if p.Account == "" {
		p.Account = fedid.DefaultAccountID
	}
	if !reAccount.MatchString(p.Account) {
		return a.errorf("Account", "%q must be 12 digits (quote it in YAML)", fedid.Clip(p.Account))
	}
	if !fedid.ValidSAMLProviderName(p.Name) {
		return a.errorf("Name", "%q must be 1-128 letters, digits, '_', '.' or '-'", fedid.Clip(p.Name))
	}
	file, inline := scalar(m["MetadataFile"]), scalar(m["Metadata"])
	switch {
	case file != "" && inline != "":
		return a.errorf("Metadata", "give MetadataFile or Metadata, not both")
	case file != "":
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(f.Path), file)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return a.wrap("MetadataFile", err)
		}
		p.Metadata = string(b)
	case inline != "":
		p.Metadata = inline
	default:
		return a.errorf("", "the metadata document is required (MetadataFile or Metadata)")
	}
	f.SAMLProviders = append(f.SAMLProviders, p)
	return nil
}

// applySAMLProvider stores a declared SAML provider unless the store holds
// it already with the same document; a replaced one keeps its creation
// date.
func applySAMLProvider(ctx context.Context, st fedid.Store, d SAMLProvider, now time.Time) (created, changed bool, err error) {
	p, err := fedid.NewSAMLProvider(d.Account, d.Name, d.Metadata, now)
	if err != nil {
		return false, false, d.wrap(firstMember(d.at, "MetadataFile", "Metadata"), errors.New(fedid.ErrorMessage(err)))
	}
	old, err := st.GetSAMLProvider(ctx, p.ARN)
	switch {
	case errors.Is(err, fedid.ErrNotFound):
		created = true
	case err != nil:
		return false, false, err
	default:
		if old.Metadata == p.Metadata {
			return false, false, nil
		}
		p.CreatedAt = old.CreatedAt
		changed = true
	}
	return created, changed, st.PutSAMLProvider(ctx, p)
}

// firstMember is the first of names the declaration has a line for.
func firstMember(a at, names ...string) string {
	for _, n := range names {
		if _, ok := a.lines[n]; ok {
			return n
		}
	}
	return ""
}

// exportSAML writes the store's SAML providers, their documents inline.
func exportSAML(ctx context.Context, st fedid.Store, root *yaml.Node) error {
	ps, err := st.ListSAMLProviders(ctx, "")
	if err != nil || len(ps) == 0 {
		return err
	}
	seq := add(root, "SamlProviders", &yaml.Node{Kind: yaml.SequenceNode})
	for _, p := range ps {
		m := &yaml.Node{Kind: yaml.MappingNode}
		add(m, "Account", str(p.Account))
		add(m, "Name", str(p.Name))
		add(m, "Metadata", str(p.Metadata))
		seq.Content = append(seq.Content, m)
	}
	return nil
}

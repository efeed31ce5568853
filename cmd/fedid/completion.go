package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// completionCmd prints a script that makes the shell ask fedid itself for
// completions (posener/complete's protocol: the shell runs the binary
// with COMP_LINE and COMP_POINT set, and kongplete.Complete, called by
// run before parsing, prints the candidates). kongplete only writes the
// script for the user's login shell (its install-completions command), so
// the three scripts are here, after kongplete's own.
type completionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish."`
}

var completionScripts = map[string]string{
	// bash runs BIN with COMP_LINE, COMP_POINT for the words of fedid.
	"bash": `# fedid completion for bash: source <(fedid completion bash)
complete -C '{bin}' {cmd}
`,
	// zsh runs bash's completion commands through bashcompinit.
	"zsh": `# fedid completion for zsh: source <(fedid completion zsh)
autoload -U +X bashcompinit && bashcompinit
complete -C '{bin}' {cmd}
`,
	// fish has no complete -C: a function sets COMP_LINE and runs BIN.
	"fish": `# fedid completion for fish: fedid completion fish | source
function __complete_{cmd}
    set -lx COMP_LINE (commandline -cp)
    test -z (commandline -ct)
    and set COMP_LINE "$COMP_LINE "
    '{bin}'
end
complete -f -c {cmd} -a "(__complete_{cmd})"
`,
}

func (c *completionCmd) Run(e *runEnv) error {
	bin, err := os.Executable()
	if err == nil {
		bin, err = filepath.Abs(bin)
	}
	if err != nil {
		return fmt.Errorf("completion: the path of fedid: %w", err)
	}
	if strings.ContainsRune(bin, '\'') {
		return fmt.Errorf("completion: the path of fedid, %s, has a quote", bin)
	}
	r := strings.NewReplacer("{bin}", bin, "{cmd}", "fedid")
	_, err = r.WriteString(e.stdout, completionScripts[c.Shell])
	return err
}

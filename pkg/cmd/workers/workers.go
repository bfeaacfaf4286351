// Package workers is `faas workers`: the hosts of a cluster as its server
// hears them.
package workers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cluster"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
)

// NewCmd returns `faas workers`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "workers",
		Short: "List the cluster's workers: this host and every faas worker",
		Long: `List the hosts that run functions for the faas serve: its own host first,
then each faas worker with its address, version, providers, capacity, load
(invocations running), state (up, or lost after 3 s without a heartbeat),
last heartbeat and instances. With FAAS_SERVER it asks that server;
otherwise the server running on this FAAS_HOME.`,
		Example: `  faas workers
  faas workers -o json | jq '.[] | select(.state == "lost") | .name'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := list(cmd.Context())
			if err != nil {
				return err
			}
			if output == cmdutil.OutputJSON {
				return cmdutil.WriteJSON(f.IOStreams.Out, ws)
			}
			if len(ws) == 0 {
				f.IOStreams.Infof("no workers: start `faas serve`, then `faas worker --server URL` on other hosts")
				return nil
			}
			t := f.IOStreams.NewTable("NAME", "ADDRESS", "VERSION", "PROVIDERS", "CAPACITY", "LOAD", "STATE", "LAST HEARTBEAT", "INSTANCES")
			for _, w := range ws {
				name := w.Name
				if w.Local {
					name += " (server)"
				}
				t.AddRow(name, w.Address, w.Version, strings.Join(w.Providers, ","), strconv.Itoa(w.Capacity), strconv.Itoa(w.Load),
					w.State, w.LastHeartbeat.UTC().Format(time.RFC3339), strconv.Itoa(len(w.Instances)))
			}
			return t.Render()
		},
	}
	cmdutil.AddOutputFlag(cmd, &output)
	return cmd
}

// list asks FAAS_SERVER, or reads what this home's server wrote.
func list(ctx context.Context) ([]cluster.Status, error) {
	server, token := cmdutil.Remote()
	if server == "" {
		home, err := faashome.Resolve()
		if err != nil {
			return nil, err
		}
		if !faashome.ReadServer(home).Running {
			return nil, fault.WithHint(fault.Usagef("no faas serve runs on %s", home), "start `faas serve`, or set FAAS_SERVER and FAAS_TOKEN")
		}
		var ws []cluster.Status
		err = faashome.ReadJSON(cluster.WorkersFile(home), &ws)
		if errors.Is(err, fs.ErrNotExist) {
			return []cluster.Status{}, nil
		}
		return ws, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(server, "/")+"/v1/workers", nil)
	if err != nil {
		return nil, fault.Usagef("FAAS_SERVER=%q: %v", server, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fault.WithHint(fault.Platformf("cannot reach the faas server: %v", err), "check FAAS_SERVER")
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fault.Platformf("the faas server answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	var ws []cluster.Status
	if err := json.Unmarshal(b, &ws); err != nil {
		return nil, fault.Platformf("read the workers: %v", err)
	}
	return ws, nil
}

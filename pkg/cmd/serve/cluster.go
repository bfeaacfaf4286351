package serve

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cluster"
	"github.com/faasdev/faas/pkg/cmd/version"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/provider"
	srv "github.com/faasdev/faas/pkg/server"
)

// ClusterOptions are faas serve's cluster flags.
type ClusterOptions struct {
	Embed    cluster.EmbedOptions
	Connect  cluster.ConnectOptions
	Name     string
	Capacity int
}

func addClusterFlags(cmd *cobra.Command, c *ClusterOptions) {
	f := cmd.Flags()
	f.StringVar(&c.Connect.URL, "nats", "", "use this external NATS server or cluster (nats://HOST:PORT,…) instead of the embedded one")
	f.StringVar(&c.Embed.Listen, "nats-listen", "", "let workers on other hosts reach the embedded NATS at HOST:PORT (needs --nats-auth)")
	f.StringVar(&c.Embed.AuthFile, "nats-auth", "", "file of user:password lines and nkey public keys that may connect to --nats-listen")
	f.StringVar(&c.Embed.TLSCert, "nats-tls-cert", "", "serve --nats-listen over TLS with this certificate (PEM)")
	f.StringVar(&c.Embed.TLSKey, "nats-tls-key", "", "and this key (PEM)")
	f.StringVar(&c.Connect.UserFile, "nats-user-file", "", "with --nats: a file holding user:password")
	f.StringVar(&c.Connect.NkeySeed, "nats-nkey", "", "with --nats: a file holding an nkey seed")
	f.StringVar(&c.Connect.Creds, "nats-creds", "", "with --nats: a NATS credentials file")
	f.StringVar(&c.Connect.CA, "nats-ca", "", "with --nats: the CA of the NATS server's certificate (PEM)")
	f.StringVar(&c.Name, "name", cluster.DefaultName(), "this host's name among the workers")
	f.IntVar(&c.Capacity, "capacity", 4*runtime.NumCPU(), "invocations this host runs at once for the cluster (0: none, workers run everything)")
}

// startedCluster is what run must stop at the end.
type startedCluster struct {
	ns     *cluster.Embedded
	nc     *nats.Conn
	cancel context.CancelFunc
	info   srv.Cluster
}

func (c *startedCluster) stop() {
	c.cancel()
	if c.nc != nil {
		_ = c.nc.Drain()
	}
	if c.ns != nil {
		c.ns.Shutdown()
	}
}

// startCluster connects the server to NATS (embedded unless --nats) and
// makes the engine place invocations on the workers that report there.
func startCluster(ctx context.Context, c ClusterOptions, eng *engine.Engine, addr string, log *slog.Logger) (*startedCluster, error) {
	if err := cluster.ValidName(c.Name); err != nil {
		return nil, err
	}
	if c.Capacity < 0 {
		return nil, fmt.Errorf("--capacity %d: use 0 or more", c.Capacity)
	}
	sc := &startedCluster{}
	var err error
	if c.Connect.URL != "" {
		c.Connect.Name = "faas serve " + c.Name
		if sc.nc, err = cluster.Connect(c.Connect); err != nil {
			return nil, err
		}
		sc.info.NATS = c.Connect.URL
	} else {
		if sc.ns, err = cluster.Embed(c.Embed); err != nil {
			return nil, err
		}
		sc.info.NATS = cluster.ListenURL(sc.ns)
		if sc.nc, err = cluster.ConnectInProcess(sc.ns, "faas serve "+c.Name); err != nil {
			sc.ns.Shutdown()
			return nil, err
		}
	}
	providers := provider.Names()
	started := time.Now()
	local := func() cluster.Heartbeat {
		running, capacity := eng.LocalLoad()
		return cluster.Heartbeat{Name: c.Name, Address: addr, Version: version.Current().Version, Providers: providers,
			Capacity: capacity, Load: running, Started: started, Time: time.Now(), Instances: []cluster.InstanceInfo{}}
	}
	cctx, cancel := context.WithCancel(ctx)
	sc.cancel = cancel
	sc.info.Placer = cluster.NewPlacer(sc.nc, eng, eng.Home, c.Name, local, log)
	if err := sc.info.Placer.Start(cctx); err != nil {
		sc.stop()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	eng.SetRemote(sc.info.Placer, c.Name, c.Capacity)
	go eng.RunClusterWatcher(cctx, log)
	return sc, nil
}

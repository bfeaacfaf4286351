package multipass

import (
	"fmt"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
)

// runtimeProgram is what a runtime needs in the guest, and the Ubuntu
// package that has it when the cloud image does not ("" when it does:
// python3 and bash are in every Ubuntu cloud image).
func runtimeProgram(rt function.Runtime) (prog, pkg string) {
	switch rt {
	case function.Python:
		return "python3", ""
	case function.Node:
		return "node", "nodejs"
	case function.Bash:
		return "bash", ""
	}
	return "", ""
}

// cloudInit is the plain-YAML cloud-config of a VM: the runtime's package
// when the image lacks it (apt, at first boot: it needs network), the
// agent's token and its systemd unit. It is given to `launch` on stdin: the
// snap-confined client cannot read FAAS_HOME (~/.local is hidden).
func cloudInit(inst faastype.Instance, inv faastype.Invocation, token string) string {
	packages := ""
	if _, pkg := runtimeProgram(inv.Config.Runtime); pkg != "" {
		packages = "packages: [" + pkg + "]\n"
	}
	return fmt.Sprintf(`#cloud-config
%swrite_files:
  - path: /etc/faas/agent.env
    permissions: "0600"
    content: |
      FAAS_AGENT_TOKEN=%s
      FAAS_AGENT_ADDR=0.0.0.0:%d
  - path: /etc/systemd/system/%s.service
    permissions: "0644"
    content: |
      [Unit]
      Description=faas agent for %s
      After=network-online.target
      [Service]
      EnvironmentFile=/etc/faas/agent.env
      ExecStart=/usr/local/bin/faas agent --instance %s --function %s --home %s --addr ${FAAS_AGENT_ADDR} --pinned
      Restart=on-failure
      [Install]
      WantedBy=multi-user.target
`, packages, token, agentPort, agentUnit, inv.Function, inst.ID, inv.Function, guestHome)
}

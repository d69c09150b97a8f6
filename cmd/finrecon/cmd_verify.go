package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/evidence"
	"github.com/finrecon/finrecon/internal/fail"
)

type verifyOptions struct {
	config         string
	publicKey      string
	unsignedBefore bool
}

func newVerifyCmd(g *globals) *cobra.Command {
	opts := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify [RUNS_DIR]",
		Short: "Check the evidence chain of a runs folder: every output's hash, every link, every signature",
		Long: `Verify walks the runs folder's evidence chain from its latest run back to
the first: it re-hashes every output, rule copy and history file each run.json
lists, checks that each run.json is the one the next run recorded (so an
edited or deleted past run is found), and with --public-key checks each
run's ed25519 signature (run.json.sig). It names the first run and file that
fail.

Exit code 0: the chain holds; 1: something was edited, deleted or unsigned;
2: the folder or key cannot be read.`,
		Example: `  finrecon verify out/demo/runs
  finrecon verify /archive/runs --public-key finrecon.pub`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := ""
			if len(args) == 1 {
				dir = args[0]
			}
			if dir == "" {
				if opts.config == "" {
					return usageError{fmt.Errorf("name a runs folder, or pass --config")}
				}
				cfg, err := loadConfig(opts.config)
				if err != nil {
					return err
				}
				dir = cfg.Path(cfg.Runs)
			}
			rep, err := evidence.Verify(dir, evidence.Options{PublicKeyFile: opts.publicKey, AllowUnsignedHistory: opts.unsignedBefore})
			if err != nil {
				return fail.ConfigErr(err)
			}
			if err := rep.Write(cmd.OutOrStdout()); err != nil {
				return err
			}
			if rep.Err() != nil {
				return errFindings
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.config, "config", "", "config file (its runs: is verified)")
	cmd.Flags().StringVar(&opts.publicKey, "public-key", "", "ed25519 public key file: every run must carry a good signature")
	cmd.Flags().BoolVar(&opts.unsignedBefore, "allow-unsigned-history", false, "accept unsigned runs older than the oldest signed one (signing switched on later)")
	return cmd
}

func newKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Create an ed25519 key pair for signing runs",
		Long: `Keygen writes finrecon.key (the private key, PEM PKCS#8, mode 0600) and
finrecon.pub (the public key, PEM PKIX) into --out. It never overwrites a
file. Name the private key in the config's signing_key: (or --sign-key) and
give auditors the public key for finrecon verify --public-key.`,
		Example: `  finrecon keygen --out /etc/finrecon`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := os.MkdirAll(out, 0o700); err != nil {
				return fail.ConfigErr(fmt.Errorf("keygen: %w", err))
			}
			priv, pub := filepath.Join(out, "finrecon.key"), filepath.Join(out, "finrecon.pub")
			fp, err := evidence.GenerateKey(priv, pub)
			if err != nil {
				return fail.ConfigErr(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "private key %s (keep it secret)\npublic key  %s\nfingerprint %s\n", priv, pub, fp)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", ".", "folder to write the key pair into")
	return cmd
}

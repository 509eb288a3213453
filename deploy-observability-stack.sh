#!/usr/bin/env bash
# Deploy the six observability Workers and the dashboard to one Cloudflare environment.
#
#   ./deploy-observability-stack.sh staging|production [--dry-run]
#
# Needs: uv (for pywrangler, which vendors each Worker's [project].dependencies into
# python_modules/), Node.js (npx wrangler), and CLOUDFLARE_API_TOKEN + CLOUDFLARE_ACCOUNT_ID.
# KV namespace ids in each wrangler.toml's [env.<environment>] must be the real ids
# (`npx wrangler kv namespace create obs-config --env <environment>` prints them).
set -euo pipefail

usage() { echo "usage: $0 staging|production [--dry-run]" >&2; exit 2; }
[ $# -ge 1 ] || usage
environment=$1; shift
case "$environment" in staging|production) ;; *) usage ;; esac
dry_run=false
[ "${1:-}" = "--dry-run" ] && dry_run=true

root=$(cd "$(dirname "$0")" && pwd)
# Workers that others bind to come first, so service bindings resolve at deploy time.
workers=(alerting logs apm infra security monitoring)

for tool in uv npx; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done
if ! $dry_run; then
  : "${CLOUDFLARE_API_TOKEN:?set CLOUDFLARE_API_TOKEN}"
  : "${CLOUDFLARE_ACCOUNT_ID:?set CLOUDFLARE_ACCOUNT_ID}"
fi

for worker in "${workers[@]}"; do
  echo "==> obs-$worker ($environment)"
  (
    cd "$root/workers/$worker"
    if $dry_run; then
      uv run --with workers-py pywrangler deploy --env "$environment" --dry-run --outdir "$root/.deploy/$worker"
    else
      uv run --with workers-py pywrangler deploy --env "$environment"
    fi
  )
done

echo "==> dashboard (Pages)"
if $dry_run; then
  echo "would run: npx wrangler pages deploy dashboard --project-name pitchey-observability-dashboard --branch $environment"
else
  (cd "$root" && npx --yes wrangler pages deploy dashboard --project-name pitchey-observability-dashboard --branch "$environment")
fi

cat <<MSG
Deployed to $environment. Set secrets once per Worker if you have not:
  for w in ${workers[*]}; do for s in OBS_INGEST_TOKEN OBS_READ_TOKEN OBS_ADMIN_TOKEN SENTRY_DSN; do
    (cd workers/\$w && uv run --with workers-py pywrangler secret put \$s --env $environment); done; done
MSG

# shellcheck shell=bash
# PKI for the test clusters, made with openssl. Sourced by tests/env/up.
# One CA per cluster (so a credential for cluster a is useless against b, as in real life),
# an apiserver serving cert for 127.0.0.1/localhost, a service-account key pair and client
# certs whose CN is the user name and O the group. EC P-256 keys: fast to generate.

# new_key <path>
new_key() { openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$1"; }

# client_cert <cluster> <name> <CN> [O]
client_cert() {
  local dir=$PKI/$1 name=$2 cn=$3 org=${4:-} subj
  subj="/CN=$cn"
  [[ -n $org ]] && subj="/O=$org$subj"
  new_key "$dir/$name.key"
  openssl req -new -key "$dir/$name.key" -subj "$subj" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 365 -out "$dir/$name.crt" \
    -extfile <(printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n') 2>/dev/null
  rm -f "$dir/$name.csr"
}

make_cluster_pki() {
  local c=$1 dir=$PKI/$1
  [[ -f $dir/.complete ]] && return
  rm -rf "$dir" && mkdir -p "$dir"
  new_key "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -subj "/CN=shipdeck-testenv-$c-ca" -days 365 \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -out "$dir/ca.crt" 2>/dev/null
  new_key "$dir/apiserver.key"
  openssl req -new -key "$dir/apiserver.key" -subj "/CN=kube-apiserver" -out "$dir/apiserver.csr" 2>/dev/null
  openssl x509 -req -in "$dir/apiserver.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 365 -out "$dir/apiserver.crt" \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n') 2>/dev/null
  rm -f "$dir/apiserver.csr"
  # Service-account token signing key (ES256).
  new_key "$dir/sa.key"
  openssl ec -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
  # Identities. admin is also what the in-process controllers use (system:masters).
  client_cert "$c" admin shipdeck-admin system:masters
  client_cert "$c" oncall oncall shipdeck:oncall
  client_cert "$c" viewer viewer shipdeck:viewer
  chmod 600 "$dir"/*.key
  touch "$dir/.complete"
}

b64() { base64 -w0 <"$1"; }

# The kubeconfig for one cluster and user.
write_component_kubeconfig() {
  local c=$1 user=$2 out=$3
  cat >"$out" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: $c
  cluster:
    server: https://127.0.0.1:$(port "$c" apiserver)
    certificate-authority-data: $(b64 "$PKI/$c/ca.crt")
users:
- name: $c-$user
  user:
    client-certificate-data: $(b64 "$PKI/$c/$user.crt")
    client-key-data: $(b64 "$PKI/$c/$user.key")
contexts:
- name: $c-$user
  context: {cluster: $c, user: $c-$user}
current-context: $c-$user
YAML
}

# One kubeconfig with every cluster and identity: contexts <cluster>-<user>.
write_kubeconfig() {
  local out=$1 c u
  {
    echo "apiVersion: v1"
    echo "kind: Config"
    echo "clusters:"
    for c in "${CLUSTERS[@]}"; do
      echo "- name: $c"
      echo "  cluster:"
      echo "    server: https://127.0.0.1:$(port "$c" apiserver)"
      echo "    certificate-authority-data: $(b64 "$PKI/$c/ca.crt")"
    done
    echo "users:"
    for c in "${CLUSTERS[@]}"; do
      for u in admin oncall viewer; do
        echo "- name: $c-$u"
        echo "  user:"
        echo "    client-certificate-data: $(b64 "$PKI/$c/$u.crt")"
        echo "    client-key-data: $(b64 "$PKI/$c/$u.key")"
      done
    done
    echo "contexts:"
    for c in "${CLUSTERS[@]}"; do
      for u in admin oncall viewer; do
        echo "- name: $c-$u"
        echo "  context: {cluster: $c, user: $c-$u}"
      done
    done
    echo "current-context: ${CLUSTERS[0]}-admin"
  } >"$out"
}

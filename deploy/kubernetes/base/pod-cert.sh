#!/bin/sh
# Init container of every PennCloud pod: this pod's own certificate for the mutual TLS of
# internal gRPC, issued at start because it must name the pod's IP (the coordinator takes a
# heartbeat only for an address the sender's certificate names, and its proxy dials IPs), and
# Kubernetes hands out that IP only once the pod exists.
#   pod-cert.sh IDENTITY [DNS_NAME...]      e.g. replica/1/2 kvs-g1-1.kvs-g1
# Environment: NODE_NAME (the file name, as the binary's --node_name), POD_IP.
# Reads the cluster CA from /ca (the Secret penncloud-ca, mounted into this init container
# only), works in /scratch (memory, this container only) and leaves ca.crt, NODE_NAME.crt and
# NODE_NAME.key in /tls, the memory volume the server container mounts read-only: the server
# holds its own key and no other, and never the CA's.
set -eu
identity=$1
shift
name=${NODE_NAME:?NODE_NAME is not set}
ip=${POD_IP:?POD_IP is not set}
work=/scratch/ca
mkdir -p "$work"
cp /ca/ca.crt /ca/ca.key "$work/"
bash /penncloud/bin/tls.sh issue "$work" "$name" "$identity" "$ip" "$@"
(umask 077 && cp "$work/ca.crt" "$work/$name.crt" "$work/$name.key" /tls/)
rm -rf "$work"
echo "pod-cert: $name has $identity ($ip $*)"

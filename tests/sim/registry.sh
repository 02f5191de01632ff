# registry.sh: the rig's image registry, sourced by tests/sim/sim.
#
#   sim registry up|down|status --dir DIR [--from IMAGES]
#
# Debian's docker-registry (the real registry, distribution 2.8) on
# $HOSTIP:5000, over TLS with the mirror's server certificate (signed by the
# rig's CA, DIR/mirror/ca.crt, with IP:$HOSTIP), serving the images that
# tests/sim/kube-images built. kube-images pushed them once into a storage
# folder; each rig serves a hard-linked copy of it (cp -al: no data copied),
# read-only, so a rig can neither change the cache nor another rig.
#
# Uses sim's helpers and variables: DIR, ID, HOSTIP, BR, SRC, FROM, say,
# warn, die, need_root, need_tools, load_rig, lock_dir, record, alive,
# kill_wait, now_ms, ms_text.

REGISTRY_PORT=5000

# registry_pid DIR: the rig's docker-registry, if it runs
registry_pid() {
	local p
	p=$(cat "$1/registry/registry.pid" 2>/dev/null) || return 1
	[ -n "$p" ] && alive "$p" || return 1
	{ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -qF -- "$1/registry/config.yml" || return 1
	echo "$p"
}

# registry_stop [DIR]: stops the registry of DIR, and any registry of rig
# $ID found by the KUSIM_RIG=$ID it was started with (when DIR is lost)
registry_stop() {
	local p l
	if [ -n "${1:-}" ] && p=$(registry_pid "$1"); then
		kill_wait 5 "$p"
	fi
	[ -n "${1:-}" ] && rm -f "$1/registry/registry.pid"
	for l in $(pgrep -x docker-registry 2>/dev/null); do
		{ tr '\0' '\n' <"/proc/$l/environ"; } 2>/dev/null | grep -qx "KUSIM_RIG=$ID" && kill_wait 5 "$l"
	done
	return 0
}

cmd_registry() {
	local sub=${1-} r images p t0 n
	[ -n "${DIR:-}" ] || die "registry: --dir DIR is needed"
	load_rig
	r=$DIR/registry
	case $sub in
	up)
		need_root "sim registry up"
		need_tools docker-registry curl
		lock_dir
		t0=$(now_ms)
		if p=$(registry_pid "$DIR"); then say "registry: runs already (docker-registry $p)"; return 0; fi
		ip -o addr show dev "$BR" 2>/dev/null | grep -qF " $HOSTIP/" || die "registry: rig $ID's bridge is not up"
		[ -f "$DIR/mirror/server.crt" ] && [ -f "$DIR/mirror/server.key" ] ||
			die "registry: no server certificate in $DIR/mirror (made by sim up)"
		if [ -n "$FROM" ]; then
			images=$FROM
		else
			images=$(timeout 60 "$SRC/kube-images" --print-dir 2>/dev/null) ||
				die "registry: no images built for the current inputs (run $SRC/kube-images first, or give --from IMAGES_DIR)"
		fi
		[ -f "$images/done" ] && [ -d "$images/registry/docker" ] ||
			die "registry: $images is not a finished kube-images folder (no done, no registry/docker)"
		rm -rf --one-file-system "$r"
		mkdir -p "$r" || die "registry: cannot make $r"
		record "registry $r"
		# hard links: the same blobs as the cache, no bytes copied (a copy
		# when the cache is on another file system)
		if ! cp -al "$images/registry" "$r/storage" 2>/dev/null; then
			rm -rf --one-file-system "$r/storage"
			warn "registry: $images is on another file system than $DIR: copying the storage"
			timeout 300 cp -a "$images/registry" "$r/storage" || die "registry: copying $images/registry failed"
		fi
		cp "$images/refs" "$r/refs"
		cat >"$r/config.yml" <<-EOF
		# kubeup-sim image registry of rig $ID: $HOSTIP:$REGISTRY_PORT only,
		# read-only, the images of $images.
		version: 0.1
		log:
		  level: info
		  accesslog:
		    disabled: false
		storage:
		  filesystem:
		    rootdirectory: $r/storage
		  delete:
		    enabled: false
		  maintenance:
		    uploadpurging:
		      enabled: false
		    readonly:
		      enabled: true
		http:
		  addr: $HOSTIP:$REGISTRY_PORT
		  tls:
		    certificate: $DIR/mirror/server.crt
		    key: $DIR/mirror/server.key
		    minimumtls: tls1.2
		EOF
		setsid env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin KUSIM_RIG="$ID" \
			docker-registry serve "$r/config.yml" </dev/null >"$r/registry.log" 2>&1 9>&- &
		p=$!
		echo "$p" >"$r/registry.pid"
		record "process $p registry docker-registry"
		for _ in $(seq 200); do
			curl -s -o /dev/null --max-time 2 --cacert "$DIR/mirror/ca.crt" "https://$HOSTIP:$REGISTRY_PORT/v2/" && break
			alive "$p" || break
			sleep 0.05
		done
		if ! curl -sf -o /dev/null --max-time 5 --cacert "$DIR/mirror/ca.crt" "https://$HOSTIP:$REGISTRY_PORT/v2/"; then
			registry_stop "$DIR"
			die "registry: docker-registry does not answer on https://$HOSTIP:$REGISTRY_PORT/v2/: $(tail -n 3 "$r/registry.log")"
		fi
		n=$(wc -l <"$r/refs")
		say "registry: https://$HOSTIP:$REGISTRY_PORT (CA $DIR/mirror/ca.crt), $n image(s), up in $(ms_text $(( $(now_ms) - t0 )))"
		sed "s|^|  $HOSTIP:$REGISTRY_PORT/|" "$r/refs" ;;
	down)
		need_root "sim registry down"
		lock_dir
		registry_stop "$DIR"
		say "registry: down" ;;
	status)
		if p=$(registry_pid "$DIR"); then
			say "registry: up (docker-registry $p) at https://$HOSTIP:$REGISTRY_PORT, $(wc -l <"$r/refs") image(s)"
		else say "registry: down"; return 1; fi ;;
	*) die "registry: up, down or status" ;;
	esac
}

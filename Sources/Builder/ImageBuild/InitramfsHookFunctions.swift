import Foundation
import ImagecCore

/// initramfs-tools' hook functions with fewer processes, for `mkinitramfs`.
///
/// With `MODULES=most`, `mkinitramfs` copies about 840 modules, and its `copy_file` and
/// `manual_add_modules` start seven processes for each one (`realpath`, `readlink` three times,
/// `mkdir`, `cp`, `modinfo`): 12,700 processes, 16 s of a warm build's CPU. The two functions
/// are redefined here with shell built-ins where those give the same answer, and one `modinfo`
/// for all the modules a call adds. The initramfs is the same, byte for byte (`LayerTests`).
///
/// They are used only over a release whose own two functions are those they were written
/// against, word for word (named by their SHA-256); any other release makes its initramfs with
/// its own functions.
enum InitramfsHookFunctions {
    /// The SHA-256 of the text of the release's `manual_add_modules` and `copy_file`, in this
    /// order, that these were checked against: initramfs-tools 0.142+deb12u3 (Debian 12).
    static let releases: Set<String> = ["4a13dfa87323c2b197cb0fd800757e1da3d28a7a74937ef406d6d268f84935c8"]

    /// Where the tree's own file is, inside the sandbox.
    static let stockPath = "/run/imagec/hook-functions.stock"
    static let path = "/usr/share/initramfs-tools/hook-functions"

    /// Whether `tree`'s initramfs-tools defines the two functions as the releases above do.
    static func apply(to tree: URL) -> Bool {
        guard let text = try? String(contentsOf: tree.appendingPathComponent(String(path.dropFirst())), encoding: .utf8) else { return false }
        let lines = text.components(separatedBy: "\n")
        var functions: [String] = []
        for name in ["manual_add_modules()", "copy_file()"] {
            guard let start = lines.firstIndex(where: { $0.hasPrefix(name) }),
                  let end = lines[start...].firstIndex(of: "}") else { return false }
            functions += lines[start...end]
        }
        return releases.contains(CanonicalJSON.sha256(Data((functions.joined(separator: "\n") + "\n").utf8)))
    }

    /// The bubblewrap arguments that put the functions in place of `tree`'s, writing them to
    /// `folder`; none when `tree`'s release defines its own otherwise.
    static func sandboxArguments(for tree: URL, in folder: URL) throws -> [String] {
        guard apply(to: tree) else { return [] }
        let file = folder.appendingPathComponent("hook-functions")
        try script.write(to: file, atomically: true, encoding: .utf8)
        return ["--ro-bind", tree.path + path, stockPath, "--ro-bind", file.path, path]
    }

    static let script = #"""
# initramfs-tools' hook functions, sourced by mkinitramfs and its hooks in place of the
# release's own (imagec). That file is sourced first; copy_file and manual_add_modules are then
# redefined to do what its own do with fewer processes, so the archive is the same, byte for byte.
. \#(stockPath)

# Succeeds when $1 is absolute, already canonical and holds no symbolic link, so that
# `realpath -s` and `readlink -f` would both give it back unchanged.
imagec_plain_path()
{
	local rest prefix

	case "$1" in
	/*) ;;
	*) return 1 ;;
	esac
	case "$1/" in
	*//* | */./* | */../*) return 1 ;;
	esac
	rest="${1#/}"
	prefix=
	while [ -n "$rest" ]; do
		prefix="$prefix/${rest%%/*}"
		case "$rest" in
		*/*) rest="${rest#*/}" ;;
		*) rest= ;;
		esac
		[ -h "$prefix" ] && return 1
	done
	return 0
}

copy_file() {
	local type src target link_target canonical

	type="${1}"
	src="${2}"
	target="${3:-$2}"

	[ -f "${src}" ] || return 2

	if [ -d "${DESTDIR}/${target}" ] || [ "${target%/}" != "$target" ]; then
		target="${target}/${src##*/}"
	fi

	# realpath -ms is lexical: a target already canonical is its own answer.
	canonical="/${target}"
	while [ "${canonical#//}" != "$canonical" ]; do
		canonical="${canonical#/}"
	done
	case "$canonical/" in
	*//* | */./* | */../*) target="$(realpath -ms "/${target}")" || return 2 ;;
	*) target="$canonical" ;;
	esac

	case "${src}" in
	/bin/* | /lib* | /sbin/*)
		[ -n "${imagec_bin+set}" ] || imagec_bin="$(readlink -f /bin)"
		[ "$imagec_bin" = /usr/bin ] && src="/usr${src}"
		;;
	esac
	case "${target}" in
	/bin/* | /lib* | /sbin/*) target="/usr${target}" ;;
	esac

	[ -e "${DESTDIR}/${target}" ] && return 1

	[ -d "${DESTDIR}/${target%/*}" ] || mkdir -p "${DESTDIR}/${target%/*}"

	if ! imagec_plain_path "$src"; then
		link_target="$(readlink -f "${src}")" || return $(($? + 1))
		if [ "${link_target}" != "$(realpath -s "$src")" ]; then
			src="${link_target}"

			case "${link_target}" in
			/bin/* | /lib* | /sbin/*) link_target="/usr${link_target}" ;;
			esac

			if [ "${link_target}" != "${target}" ]; then
				[ "${verbose?}" = "y" ] && echo "Adding ${type}-link ${target}"
				ln -rs "${DESTDIR}/${link_target}" "${DESTDIR}/${target}"
			fi

			target="${link_target}"
			[ -e "${DESTDIR}/${target}" ] && return 0
			mkdir -p "${DESTDIR}/${target%/*}"
		fi
	fi

	[ "${verbose}" = "y" ] && echo "Adding ${type} ${src}"

	cp -pP "${src}" "${DESTDIR}/${target}" || return $(($? + 1))
}

# The modules are copied first, then one modinfo reads the firmware every new one names.
manual_add_modules()
{
	local prefix kmod options firmware added kind value kmod_modname

	if [ $# -eq 0 ]; then
		return
	fi

	# What copy_file says goes out (fd 4); the names of the modules it copied are kept.
	{ added="$(
	{ /sbin/modprobe --all --set-version="${version?}" --ignore-install --quiet --show-depends "$@";
	  /sbin/modprobe --all --set-version="${version}" --quiet --show-depends "$@"; } |
	while read -r prefix kmod options ; do
		if [ "${prefix}" != "insmod" ]; then
			continue
		fi

		copy_file module "${kmod}" >&4 || continue
		echo "${kmod}"
	done
	)"; } 4>&1
	[ -n "$added" ] || return 0

	# shellcheck disable=SC2086
	modinfo -0 -k "${version}" $added | sed -z -n 's/^filename:[[:space:]]*/M /p; s/^firmware[=:][[:space:]]*/F /p' | tr '\0' '\n' |
	while read -r kind value; do
		case "$kind" in
		M) kmod="$value"; continue ;;
		esac
		# shellcheck disable=SC2086
		for firmware in $value; do
			if ! add_firmware "$firmware"; then
				if [ ! -e /proc/modules ] ; then
					continue
				fi

				kmod_modname="${kmod##*/}"
				kmod_modname="${kmod_modname%%.*}"
				if grep -q "^$kmod_modname\\>" /proc/modules "${CONFDIR}/modules"; then
					echo "W: Possible missing firmware /lib/firmware/${firmware} for module ${kmod_modname}" >&2
				fi
				continue
			fi
		done
	done
}
"""#
}

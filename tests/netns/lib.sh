# What topo.sh and twopath.sh share: the NAME argument's checks and running a
# command in a namespace. Source it after setting `script` (the caller's name).

# check_name NAME: letters, digits, _ and - only, 10 characters at most (the
# namespace and interface names built from it must fit).
check_name() {
    case $1 in
        *[!a-zA-Z0-9_-]* | "") echo "$script: bad name '$1' (letters, digits, _ and - only)" >&2; exit 2 ;;
    esac
    if [ ${#1} -gt 10 ]; then
        echo "$script: name '$1' too long (10 characters at most)" >&2
        exit 2
    fi
}

# in_ns NS CMD...: runs CMD in namespace NS.
in_ns() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

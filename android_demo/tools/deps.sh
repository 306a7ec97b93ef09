#!/bin/bash
# Installs what the Kotlin build, its tests and `make apk` need, and returns at once when all is there:
# Debian bookworm's kotlin, junit4, JDK and Android build tools, and from other Debian releases, fetched with a
# private apt list and only unpacked under DEPS (nothing in /etc/apt changes): android.jar and dx (bullseye's
# libandroid-23-java, dalvik-exchange; bookworm has neither) and onnxruntime's C API header (trixie's
# libonnxruntime-dev, for the JNI bridge; the library itself comes from the onnxruntime wheel).
set -euo pipefail
DEPS=${1:-.deps}
PACKAGES="kotlin junit4 openjdk-17-jdk-headless gcc unzip aapt zipalign apksigner dexdump"
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $PACKAGES 2>/dev/null | awk '$4 != "installed" {print $1}' || true)
missing="$missing $(for p in $PACKAGES; do dpkg-query -W "$p" >/dev/null 2>&1 || echo "$p"; done)"
if [ -n "${missing// /}" ]; then
    echo "deps.sh: installing $missing" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
fi

ROOT=$DEPS/root
if [ -f "$ROOT/usr/lib/android-sdk/platforms/android-23/android.jar" ] && [ -f "$ROOT/usr/share/java/com.android.dx.jar" ] \
    && [ -f "$ROOT/usr/include/onnxruntime/onnxruntime_c_api.h" ]; then
    exit 0
fi
APT=$(realpath -m "$DEPS/apt")
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$DEPS/debs" "$ROOT"
cat > "$APT/sources.list" <<LIST
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
LIST
OPTIONS=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$APT/lists"
         -o "Dir::Cache=$APT/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get "${OPTIONS[@]}" update -qq
(cd "$DEPS/debs" && apt-get "${OPTIONS[@]}" download -qq libandroid-23-java dalvik-exchange libonnxruntime-dev)
for deb in "$DEPS"/debs/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done

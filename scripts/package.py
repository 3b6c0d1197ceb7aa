"""Packs dist/ into the archive Grafana installs (one folder named after the plugin id) and checks that it holds
what Grafana needs: plugin.json, module.js, and an executable backend for every platform mage builds."""
import json
import os
import sys
import zipfile

PLATFORMS = ["linux_amd64", "linux_arm", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64.exe"]


def main(dist, archive):
    with open(os.path.join(dist, "plugin.json")) as f:
        plugin = json.load(f)
    problems = []
    if not os.path.isfile(os.path.join(dist, "module.js")):
        problems.append("module.js is missing: run npm run build")
    if "%VERSION%" in json.dumps(plugin):
        problems.append("plugin.json still holds %VERSION%: the build did not fill it in")
    for platform in PLATFORMS:
        binary = os.path.join(dist, f"{plugin['executable']}_{platform}")
        if not os.path.isfile(binary):
            problems.append(f"{os.path.basename(binary)} is missing: run go tool mage -v buildAll")
        elif not os.access(binary, os.X_OK):
            problems.append(f"{os.path.basename(binary)} is not executable")
    if problems:
        sys.exit("The plugin archive cannot be made:\n  " + "\n  ".join(problems))

    os.makedirs(os.path.dirname(archive) or ".", exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for root, _, files in os.walk(dist):
            for name in sorted(files):
                path = os.path.join(root, name)
                zf.write(path, os.path.join(plugin["id"], os.path.relpath(path, dist)))
    print(f"{archive}: {os.path.getsize(archive) // 1024} KiB, plugin {plugin['id']} {plugin['info']['version']}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

# SPDX-License-Identifier: MIT
# Lets pwsh find the PowerShell module System.IO.MemoryMappedFiles.Commands
# that the mmf package puts in /usr/share/powershell/Modules.  pwsh searches
# ~/.local/share/powershell/Modules, /usr/local/share/powershell/Modules and
# $PSHOME/Modules: a package may not install into /usr/local (Debian policy
# 9.1.2), $PSHOME is wherever pwsh was unpacked, and pwsh adds its own
# folders to a PSModulePath it inherits, so this only adds the package's.
case ":${PSModulePath:-}:" in
  *:/usr/share/powershell/Modules:*) ;;
  *) PSModulePath="${PSModulePath:+$PSModulePath:}/usr/share/powershell/Modules"; export PSModulePath ;;
esac

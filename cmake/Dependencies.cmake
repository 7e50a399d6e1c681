# SPDX-License-Identifier: GPL-2.0-only
# Finds every library pseudopod links against through pkg-config. A missing one stops
# configure with the Debian package that provides it (scripts/deps installs them all).
find_package(PkgConfig REQUIRED)

# pp_require(<target-name> <pkg-config module> <debian package>)
function(pp_require name module debpkg)
	pkg_check_modules(${name} QUIET IMPORTED_TARGET GLOBAL ${module})
	if(NOT ${name}_FOUND)
		message(FATAL_ERROR "pseudopod needs ${module} (pkg-config). "
			"Install it with: apt-get install ${debpkg}   (or run scripts/deps as root)")
	endif()
	add_library(dep::${name} ALIAS PkgConfig::${name})
endfunction()

pp_require(libbpf libbpf libbpf-dev)
pp_require(libelf libelf libelf-dev)
# TLS is GnuTLS everywhere (docs/architecture.md, enroll/): libmicrohttpd is built on it,
# so libcurl's GnuTLS flavour and GnuTLS's own X.509 API make one TLS stack.
pp_require(libcurl libcurl libcurl4-gnutls-dev)
pp_require(libsodium libsodium libsodium-dev)
pp_require(inih inih libinih-dev)
pp_require(cmocka cmocka libcmocka-dev)
pp_require(jansson jansson libjansson-dev)
pp_require(yaml yaml-0.1 libyaml-dev)
pp_require(microhttpd libmicrohttpd libmicrohttpd-dev)
pp_require(mnl libmnl libmnl-dev)
pp_require(gnutls gnutls libgnutls28-dev)

# promtool (Debian prometheus) is a test tool, not a library: test_agent_metrics and
# test_agent_cli_api run `promtool check metrics` on the exposition text. Without it they
# skip that check, except under CI=true, where they fail.
find_program(PP_PROMTOOL promtool)
if(NOT PP_PROMTOOL)
	message(STATUS "promtool not found: the metrics tests cannot check the exposition "
		"format. Install it with: apt-get install prometheus   (or run scripts/deps as root)")
endif()

# Packaging tools (packaging/build-repos, tests/package): programs, not libraries, needed
# only by the package tests, so a missing one is a note here and a named failure there.
foreach(tool dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian rpmbuild:rpm
		rpmlint:rpmlint createrepo_c:createrepo-c apt-ftparchive:apt-utils
		mmdebstrap:mmdebstrap groff:groff-base mke2fs:e2fsprogs)
	string(REPLACE ":" ";" _t ${tool})
	list(GET _t 0 _prog)
	list(GET _t 1 _pkg)
	find_program(PP_TOOL_${_prog} ${_prog})
	if(NOT PP_TOOL_${_prog})
		message(STATUS "${_prog} not found: the package tests need it (apt-get install ${_pkg})")
	endif()
endforeach()

# SPDX-License-Identifier: Apache-2.0
# What a system install needs besides the programs and the library: man pages, shell completions,
# the operator config, the AppArmor profile, an optional `bwrap` link; and the Debian package
# (`cpack -G DEB`, scripts/package.sh). Included from the top-level CMakeLists.txt.

option(BOXJAIL_BWRAP_SYMLINK "Also install bin/bwrap -> boxjail (drop-in use; off: bubblewrap owns bwrap)" OFF)

# /etc when installing to /usr (a package), PREFIX/etc otherwise: a source install into
# /usr/local or a scratch prefix never writes the host's /etc. boxjail reads the config from
# /etc/boxjail/config.toml whatever the prefix (src/frontend/config.cpp).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(BOXJAIL_ETC_DIR ${CMAKE_INSTALL_FULL_SYSCONFDIR})
else()
  set(BOXJAIL_ETC_DIR ${CMAKE_INSTALL_SYSCONFDIR})
endif()

# The operator config: every key there, commented out at its default (a conffile in the package).
# Its paths are this build's (the helper, the policies).
configure_file(${CMAKE_SOURCE_DIR}/packaging/config.toml.in ${CMAKE_BINARY_DIR}/generated/config.toml
               @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/generated/config.toml DESTINATION ${BOXJAIL_ETC_DIR}/boxjail)

# Files made by running the built boxjail: the AppArmor profile for the installed path (the one
# `doctor --apparmor-profile` prints) and the completions from the option table.
set(BOXJAIL_RUN_BUILT ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0 $<TARGET_FILE:boxjail>)
set(BOXJAIL_GENERATED ${CMAKE_BINARY_DIR}/generated)
add_custom_command(
  OUTPUT ${BOXJAIL_GENERATED}/apparmor/boxjail ${BOXJAIL_GENERATED}/completions/boxjail
         ${BOXJAIL_GENERATED}/completions/_boxjail
  COMMAND ${CMAKE_COMMAND} -E make_directory ${BOXJAIL_GENERATED}/apparmor
          ${BOXJAIL_GENERATED}/completions
  COMMAND ${BOXJAIL_RUN_BUILT} doctor --apparmor-profile ${CMAKE_INSTALL_FULL_BINDIR}/boxjail
          > ${BOXJAIL_GENERATED}/apparmor/boxjail
  COMMAND ${BOXJAIL_RUN_BUILT} completion bash > ${BOXJAIL_GENERATED}/completions/boxjail
  COMMAND ${BOXJAIL_RUN_BUILT} completion zsh > ${BOXJAIL_GENERATED}/completions/_boxjail
  DEPENDS boxjail
  COMMENT "Writing the AppArmor profile and the shell completions")
add_custom_target(boxjail_generated ALL DEPENDS ${BOXJAIL_GENERATED}/apparmor/boxjail)
install(FILES ${BOXJAIL_GENERATED}/apparmor/boxjail DESTINATION ${BOXJAIL_ETC_DIR}/apparmor.d)
install(FILES ${BOXJAIL_GENERATED}/completions/boxjail
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${BOXJAIL_GENERATED}/completions/_boxjail
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)

# Man pages: scdoc sources in docs/man, turned into roff and compressed as Debian wants them.
find_program(SCDOC_EXECUTABLE scdoc)
file(GLOB BOXJAIL_MAN_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/*.scd)
if(SCDOC_EXECUTABLE)
  set(man_outputs "")
  foreach(src IN LISTS BOXJAIL_MAN_SOURCES)
    get_filename_component(page ${src} NAME_WLE)  # boxjail.1
    string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
    set(out ${BOXJAIL_GENERATED}/man/${page}.gz)
    add_custom_command(
      OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -DSCDOC=${SCDOC_EXECUTABLE} -DSRC=${src} -DOUT=${out}
              -P ${CMAKE_SOURCE_DIR}/cmake/ManPage.cmake
      DEPENDS ${src} ${CMAKE_SOURCE_DIR}/cmake/ManPage.cmake
      COMMENT "scdoc ${page}")
    list(APPEND man_outputs ${out})
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(boxjail_man ALL DEPENDS ${man_outputs})
else()
  message(WARNING "scdoc not found: the man pages are not built (apt-get install scdoc)")
endif()

if(BOXJAIL_BWRAP_SYMLINK)
  install(CODE "
    file(CREATE_LINK boxjail \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/bwrap\"
         SYMBOLIC)
  ")
endif()

# Debian's copyright file and changelog, which every package carries in its doc directory.
set(BOXJAIL_DOC_DIR ${CMAKE_INSTALL_DATADIR}/doc/boxjail)
configure_file(${CMAKE_SOURCE_DIR}/packaging/debian/copyright ${BOXJAIL_GENERATED}/doc/copyright
               COPYONLY)
configure_file(${CMAKE_SOURCE_DIR}/packaging/debian/changelog.in
               ${BOXJAIL_GENERATED}/doc/changelog.Debian @ONLY)
add_custom_command(
  OUTPUT ${BOXJAIL_GENERATED}/doc/changelog.Debian.gz
  COMMAND gzip -9nf -k ${BOXJAIL_GENERATED}/doc/changelog.Debian
  DEPENDS ${BOXJAIL_GENERATED}/doc/changelog.Debian)
add_custom_target(boxjail_changelog ALL DEPENDS ${BOXJAIL_GENERATED}/doc/changelog.Debian.gz)
install(FILES ${BOXJAIL_GENERATED}/doc/copyright ${BOXJAIL_GENERATED}/doc/changelog.Debian.gz
        DESTINATION ${BOXJAIL_DOC_DIR})
# What lintian reports that is so by design, each with its reason.
install(FILES ${CMAKE_SOURCE_DIR}/packaging/debian/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME boxjail)

# ---- cpack -G DEB ---------------------------------------------------------------------------
set(CPACK_PACKAGE_NAME boxjail)
set(CPACK_PACKAGE_VENDOR "boxjail")
set(CPACK_PACKAGE_CONTACT "boxjail maintainers <boxjail@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Linux sandbox jailer, a drop-in for bubblewrap")
# Lines of at most 79 characters: dpkg shows each behind one space.
set(CPACK_PACKAGE_DESCRIPTION
    "boxjail runs a command in new Linux namespaces with a private root, as bwrap\n"
    "does, and accepts bwrap's command line. It falls back from an unprivileged\n"
    "user namespace to a hardened setuid helper, says which setup step failed and\n"
    "why, and has a preflight (boxjail doctor), seccomp policies as files, a JSON\n"
    "spec and JSON reports.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/boxjail/boxjail")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
# A static build needs no shared library; a dynamic one gets its Depends from dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "uidmap, apparmor")
# The package's own tree, owned by root whoever runs cpack (the helper is setuid root).
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(BOXJAIL_DEB_SCRIPTS ${BOXJAIL_GENERATED}/debian)
foreach(script postinst prerm postrm)
  configure_file(${CMAKE_SOURCE_DIR}/packaging/debian/${script} ${BOXJAIL_DEB_SCRIPTS}/${script}
                 @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                 GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${BOXJAIL_DEB_SCRIPTS}/postinst ${BOXJAIL_DEB_SCRIPTS}/prerm ${BOXJAIL_DEB_SCRIPTS}/postrm)
# The files under /etc are the operator's: dpkg keeps their edits across upgrades. Only a /usr
# build has them in /etc (scripts/package.sh configures the `package` preset for that).
if(IS_ABSOLUTE "${BOXJAIL_ETC_DIR}")
  file(WRITE ${BOXJAIL_DEB_SCRIPTS}/conffiles
       "${BOXJAIL_ETC_DIR}/boxjail/config.toml\n${BOXJAIL_ETC_DIR}/apparmor.d/boxjail\n")
  list(APPEND CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${BOXJAIL_DEB_SCRIPTS}/conffiles)
endif()
include(CPack)

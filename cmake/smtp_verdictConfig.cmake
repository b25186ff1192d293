# CMake package of smtp-verdict, installed by `cargo cinstall` in <prefix>/share/cmake/smtp_verdict:
#   find_package(smtp_verdict 0.2 REQUIRED)
#   target_link_libraries(agent PRIVATE smtp_verdict::smtp_verdict)          # shared
#   target_link_libraries(agent PRIVATE smtp_verdict::smtp_verdict_static)   # static
get_filename_component(_smtp_verdict_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
set(_smtp_verdict_libdirs lib lib64)
if(CMAKE_LIBRARY_ARCHITECTURE)
  list(APPEND _smtp_verdict_libdirs "lib/${CMAKE_LIBRARY_ARCHITECTURE}")
endif()
find_path(smtp_verdict_INCLUDE_DIR smtp_verdict.h
  PATHS "${_smtp_verdict_prefix}/include" NO_DEFAULT_PATH)
find_library(smtp_verdict_LIBRARY NAMES smtp_verdict
  PATHS "${_smtp_verdict_prefix}" PATH_SUFFIXES ${_smtp_verdict_libdirs} NO_DEFAULT_PATH)
find_library(smtp_verdict_STATIC_LIBRARY NAMES libsmtp_verdict.a
  PATHS "${_smtp_verdict_prefix}" PATH_SUFFIXES ${_smtp_verdict_libdirs} NO_DEFAULT_PATH)

if(NOT smtp_verdict_LIBRARY OR NOT smtp_verdict_INCLUDE_DIR)
  set(smtp_verdict_FOUND FALSE)
  set(smtp_verdict_NOT_FOUND_MESSAGE "no libsmtp_verdict or smtp_verdict.h under ${_smtp_verdict_prefix}")
elseif(NOT TARGET smtp_verdict::smtp_verdict)
  add_library(smtp_verdict::smtp_verdict SHARED IMPORTED)
  set_target_properties(smtp_verdict::smtp_verdict PROPERTIES
    IMPORTED_LOCATION "${smtp_verdict_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${smtp_verdict_INCLUDE_DIR}")
  if(smtp_verdict_STATIC_LIBRARY)
    # What the Rust standard library needs from the system, as in smtp_verdict.pc's Libs.private.
    find_package(Threads REQUIRED)
    add_library(smtp_verdict::smtp_verdict_static STATIC IMPORTED)
    set_target_properties(smtp_verdict::smtp_verdict_static PROPERTIES
      IMPORTED_LOCATION "${smtp_verdict_STATIC_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${smtp_verdict_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m;gcc_s;util;rt;c")
  endif()
endif()
unset(_smtp_verdict_prefix)
unset(_smtp_verdict_libdirs)

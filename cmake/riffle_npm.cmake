# riffle_npm_ci(<source dir> <build dir>): a build step that installs the npm packages pinned by
# <source dir>/package-lock.json into <build dir>/node_modules (never into the source tree), again
# whenever package.json or the lockfile changes. Its output, to depend on: <build dir>/npm-ci.stamp.
# Fails the configure with a clear message when npm is missing.
function(riffle_npm_ci source build)
  find_program(NPM_EXECUTABLE npm)
  find_program(NODE_EXECUTABLE node)
  if(NOT NPM_EXECUTABLE OR NOT NODE_EXECUTABLE)
    message(FATAL_ERROR "Node.js and npm are needed at build time (for ${source}) and were not "
                        "found. Install them (Debian: apt-get install nodejs npm; scripts/run "
                        "and scripts/test do it for you).")
  endif()
  file(MAKE_DIRECTORY ${build})
  add_custom_command(
    OUTPUT ${build}/npm-ci.stamp
    COMMAND ${CMAKE_COMMAND} -E copy ${source}/package.json ${source}/package-lock.json ${build}
    COMMAND ${NPM_EXECUTABLE} ci --no-audit --no-fund --loglevel=error
    COMMAND ${CMAKE_COMMAND} -E touch ${build}/npm-ci.stamp
    WORKING_DIRECTORY ${build}
    DEPENDS ${source}/package.json ${source}/package-lock.json
    COMMENT "npm ci for ${source}"
    VERBATIM)
endfunction()

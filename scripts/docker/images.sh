#!/usr/bin/env bash
# Sourced by scripts/docker/up.sh: chooses the base images. The defaults are the official
# images named in docker-compose.yml (${WB_*_IMAGE:-...}). An image is used as it is when
# the engine already has it or a registry answers; otherwise a local stand-in is built
# (scripts/docker/standins/build.sh) and the variable points at it. The choice is written
# to $WB_DOCKER_ENV_FILE for scripts/docker/compose.sh and the tests.
#   WB_DOCKER_STANDINS=auto (default) | 1 (always stand-ins) | 0 (never: pull or fail)

# name -> compose variable; defaults read from docker-compose.yml (the one place).
declare -A WB_IMAGE_VARS=([debian]=WB_DEBIAN_IMAGE [node]=WB_NODE_IMAGE [nats]=WB_NATS_IMAGE
  [postgres]=WB_POSTGRES_IMAGE [traefik]=WB_TRAEFIK_IMAGE)
. "$WB_ROOT/scripts/versions.env"
: "${WB_STANDIN_DEBIAN:=wb-standin/debian:13}"
: "${WB_STANDIN_NODE:=wb-standin/node:trixie}"
: "${WB_STANDIN_NATS:=wb-standin/nats:${NATS_SERVER_VERSION#v}}"
: "${WB_STANDIN_POSTGRES:=wb-standin/postgres:trixie}"
: "${WB_STANDIN_TRAEFIK:=wb-standin/traefik:$TRAEFIK_VERSION}"
export WB_STANDIN_DEBIAN WB_STANDIN_NODE WB_STANDIN_NATS WB_STANDIN_POSTGRES WB_STANDIN_TRAEFIK

wb_image_default() { # wb_image_default VAR: the default in docker-compose.yml
  sed -n "s/.*\${$1:-\([^}]*\)}.*/\1/p" "$WB_ROOT/docker-compose.yml" | head -1
}

wb_registry_answers() {
  # Docker Hub's registry API answers 401 (auth needed) when it is reachable.
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 https://registry-1.docker.io/v2/ || true)
  [ "$code" = 401 ] || [ "$code" = 200 ]
}

wb_choose_images() {
  local mode=${WB_DOCKER_STANDINS:-auto} registry=unknown name var img standin builds=()
  for name in debian node nats postgres traefik; do
    var=${WB_IMAGE_VARS[$name]}
    img=${!var:-$(wb_image_default "$var")}
    standin_var=WB_STANDIN_${name^^}
    standin=${!standin_var}
    if [ "$mode" != 1 ] && docker image inspect "$img" >/dev/null 2>&1; then
      :
    elif [ "$mode" = 0 ]; then
      :   # compose pulls it (or fails, saying why)
    else
      if [ "$mode" = auto ] && [ "$registry" = unknown ]; then
        if wb_registry_answers; then registry=yes; else
          registry=no
          echo "docker-up: no container registry answers (https://registry-1.docker.io); building local stand-ins for the official images (scripts/docker/standins)" >&2
        fi
      fi
      if [ "$mode" = 1 ] || [ "$registry" = no ]; then
        img=$standin
        builds+=("$name")
      fi
    fi
    export "$var=$img"
  done
  if [ ${#builds[@]} -gt 0 ]; then
    bash "$WB_ROOT/scripts/docker/standins/build.sh" "${builds[@]}"
  fi
  {
    for name in debian node nats postgres traefik; do
      var=${WB_IMAGE_VARS[$name]}
      echo "$var=${!var}"
    done
  } >"$WB_DOCKER_ENV_FILE"
}

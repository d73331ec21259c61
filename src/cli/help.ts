import { FORMAT_OPTION_HELP } from "./format_option.ts";
import { SWEEP_OPTIONS_HELP, SWEEP_USAGE } from "./sweep_args.ts";

/** The usage text printed for `-h`/`--help` and after usage errors. */
export const HELP_TEXT = `\
vast-threatbus: match Threat Bus indicators against VAST or Tenzir and report sightings

Usage:
  vast-threatbus [run] [-c FILE] [--threatbus-format stix2|legacy]
  vast-threatbus check [-c FILE] [--timeout SECONDS] [--threatbus-format F]
${SWEEP_USAGE}
  vast-threatbus -h | --help
  vast-threatbus -V | --version

Subcommands:
  run                 Subscribe to Threat Bus and match indicators (the default)
  check               Validate the config, ask the backend ("vast status", or
                      Tenzir's "remote { version }") and the Threat Bus
                      manage endpoint for a harmless reply; print one line per
                      check on stdout; exit 0 if all pass, 1 if one fails,
                      2 for an unusable config (for deploy scripts, ExecStartPre)
  sweep               Query every indicator once (a Threat Bus snapshot or a
                      file), report the sightings and exit (for cron jobs)

Options:
  -c, --config FILE   Read the configuration from FILE (must end in .yaml or .yml)
      --timeout SECONDS
                      check: how long the backend and Threat Bus may take to answer
                      (default 10)
${FORMAT_OPTION_HELP}
  -h, --help          Show this help and exit
  -V, --version       Show the version and exit

${SWEEP_OPTIONS_HELP}

Configuration:
  Without -c, config.yaml or else config.yml in the working directory is read;
  without either, the built-in defaults apply (see config.yaml.example).
  Environment variables override any key: VAST_THREATBUS_ followed by the key
  in upper case, nested keys joined by "__", for example
    VAST_THREATBUS_LOGGING__CONSOLE_VERBOSITY=DEBUG
    VAST_THREATBUS_RETRO_MATCH_TIMEOUT=60
  Values that look like true/false or numbers are read as such. A .env file in
  the working directory is read too; real environment variables win over it.

Output:
  Logs go to stderr (and to logging.filename when logging.file is true).
  Stdout carries data only: sighting contexts when sink is STDOUT, the
  report of check. logging.format: json writes one JSON object per log line.
`;

/** The one-line hint printed after a usage error. */
export const USAGE_HINT = "Run 'vast-threatbus --help' for usage.";

/** The usage text printed for `-h`/`--help` and after usage errors. */
export const HELP_TEXT = `\
vast-threatbus: match Threat Bus indicators against VAST and report sightings

Usage:
  vast-threatbus [run] [-c FILE]
  vast-threatbus -h | --help
  vast-threatbus -V | --version

Subcommands:
  run                 Subscribe to Threat Bus and match indicators (the default)

Options:
  -c, --config FILE   Read the configuration from FILE (must end in .yaml or .yml)
  -h, --help          Show this help and exit
  -V, --version       Show the version and exit

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
  Stdout carries data only: sighting contexts when sink is STDOUT.
`;

/** The one-line hint printed after a usage error. */
export const USAGE_HINT = "Run 'vast-threatbus --help' for usage.";

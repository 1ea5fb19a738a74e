// A variable that is set but unusable: which key (a variable, or a path inside its JSON value such
// as DESTINATIONS.erp.url) and why, for logs and the console; never its value. The one error shape
// of the configuration, built where the value is parsed, so the key is never read back out of a message.

export interface ConfigError {
  readonly key: string;
  /** Why, in words that follow the key ("DESTINATIONS.erp.url: an absolute https URL …"). */
  readonly message: string;
}

/** The error as one line for a log or a page: the key, then why. */
export function describeConfigError(error: ConfigError): string {
  return `${error.key}: ${error.message}`;
}

using Microsoft.Extensions.Options;

namespace RecApp.ServiceDefaults;

/// <summary>A setting is missing or has a value the service cannot use; the message names it.</summary>
public sealed class InvalidConfigurationException(string message) : Exception(message);

/// <summary>
/// What a service does when its configuration is bad: one line on stderr naming the setting and exit code
/// <see cref="ExitCode"/>, instead of an unhandled exception that aborts the process (SIGABRT, a core dump where
/// enabled). Used around each service's start-up (the API, the Refresher, the migration step).
/// </summary>
public static class ConfigurationError
{
    /// <summary>The exit code of a start-up refused for its configuration (1 is a failure at run time).</summary>
    public const int ExitCode = 2;

    /// <summary>The settings at fault when <paramref name="exception"/> is a configuration error, else null.</summary>
    public static string? Describe(Exception exception) => exception switch
    {
        OptionsValidationException invalid => string.Join(" ", invalid.Failures),
        InvalidConfigurationException missing => missing.Message,
        // The configuration binder: "Failed to convert configuration value 'banana' at 'Caching:DistributedCacheHardTimeout' to type ...".
        InvalidOperationException conversion when conversion.Message.Contains("configuration value", StringComparison.OrdinalIgnoreCase) =>
            conversion.Message,
        AggregateException many when many.Flatten().InnerExceptions.Select(Describe).ToArray() is var all && all.All(d => d is not null) =>
            string.Join(" ", all),
        _ => null,
    };

    /// <summary>Writes the error to stderr and returns <see cref="ExitCode"/> (for <c>return</c> from <c>Main</c>).</summary>
    public static int Exit(string error)
    {
        Console.Error.WriteLine($"Configuration error, not started: {error}");
        return ExitCode;
    }
}

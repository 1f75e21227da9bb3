using RecApp.MigrationService;
using RecApp.ServiceDefaults;

// The aspire-samples migration-service pattern: one run before the services start; the AppHost makes the API and the
// Refresher wait for this process to exit with 0.
try
{
    var builder = Host.CreateApplicationBuilder(args);
    builder.AddServiceDefaults();
    builder.Services.AddOptions<MigrationOptions>().BindConfiguration(MigrationOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
    builder.Services.AddHostedService<MigrationWorker>();

    using var host = builder.Build();
    await host.RunAsync();
    return Environment.ExitCode;
}
catch (Exception exception) when (ConfigurationError.Describe(exception) is { } error)
{
    return ConfigurationError.Exit(error);
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RecApp.Recommendations.Ingest;
using RecApp.Refresher.Worker;

namespace RecApp.Refresher;

public static class RefresherExtensions
{
    /// <summary>
    /// The Refresher worker: options (section <c>Refresher</c> plus the seed's environment names), leader election,
    /// job history, on-demand requests, version announcements, demo seeding and the worker itself. The jobs are
    /// every <see cref="RecApp.Recommendations.Model.IModelJob"/> registered in the container.
    /// </summary>
    public static IHostApplicationBuilder AddRefresher(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddOptions<RefresherOptions>()
            .Bind(configuration.GetSection(RefresherOptions.SectionName))
            .PostConfigure(options => options.ApplySeedEnvironmentNames(configuration))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RefresherOptions>, RefresherOptionsValidation>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<DatasetBulkLoader>();
        builder.Services.AddSingleton<LeaderElection>();
        builder.Services.AddSingleton<JobRunHistory>();
        builder.Services.AddSingleton<RefresherMetrics>();
        builder.Services.AddSingleton<RefreshRequestInbox>();
        builder.Services.AddSingleton<ModelVersionAnnouncer>();
        builder.Services.AddSingleton<DemoDataSeeder>();
        builder.Services.AddHostedService<RefresherWorker>();
        return builder;
    }

    /// <summary>Names every invalid setting in the start-up error.</summary>
    private sealed class RefresherOptionsValidation : IValidateOptions<RefresherOptions>
    {
        public ValidateOptionsResult Validate(string? name, RefresherOptions options)
        {
            var errors = options.Validate().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using RecApp.Recommendations;
using RecApp.Recommendations.Ingest;
using RecApp.Refresher.Worker;

namespace RecApp.Refresher;

public static class RefresherExtensions
{
    /// <summary>
    /// The Refresher worker: options (section <c>Refresher</c>, the seed's environment names mapped onto it), leader election,
    /// job history, on-demand requests, version announcements, demo seeding and the worker itself. The jobs are
    /// every <see cref="RecApp.Recommendations.Model.IModelJob"/> registered in the container.
    /// </summary>
    public static IHostApplicationBuilder AddRefresher(this IHostApplicationBuilder builder)
    {
        builder.Configuration.AddSeedEnvironmentNames();
        builder.Services.AddOptions<RefresherOptions>()
            .BindConfiguration(RefresherOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
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
}

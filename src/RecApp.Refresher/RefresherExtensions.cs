using Microsoft.Extensions.DependencyInjection.Extensions;
using RecApp.Engine;
using RecApp.Engine.Datasets;
using RecApp.Engine.Domain;
using RecApp.Data;
using RecApp.Data.Jobs;
using RecApp.Refresher.Worker;

namespace RecApp.Refresher;

public static class RefresherExtensions
{
    /// <summary>
    /// The Refresher worker: options (section <c>Refresher</c>, the service contract's environment names mapped onto it), leader election,
    /// job history, on-demand requests, version announcements, demo data loading and the worker itself. The jobs are
    /// every <see cref="RecApp.Refresher.Jobs.IModelJob"/> registered in the container.
    /// </summary>
    public static IHostApplicationBuilder AddRefresher(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RefresherOptions>()
            .BindConfiguration(RefresherOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<DatasetBulkLoader>();
        builder.Services.AddSingleton<LeaderLock>();
        builder.Services.AddSingleton<LeaderElection>();
        builder.Services.AddSingleton<JobRunStore>();
        builder.Services.AddSingleton<RefreshRequestStore>();
        builder.Services.AddSingleton<RefresherMetrics>();
        builder.Services.AddSingleton<RefreshRequestInbox>();
        builder.Services.AddSingleton<ModelVersionAnnouncer>();
        builder.Services.AddSingleton<DemoDataLoader>();
        builder.Services.AddHostedService<RefresherWorker>();
        return builder;
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;
namespace RecApp.Api.Stats;

public static class StatsRegistration
{
    public static IHostApplicationBuilder AddStats(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RecApp.Data.DataCountReader>();
        builder.Services.TryAddSingleton<RecApp.Data.Jobs.JobRunStore>();
        builder.Services.AddSingleton<StatsReader>();
        return builder;
    }
}

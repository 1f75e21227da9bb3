namespace RecApp.Api.Stats;

public static class StatsRegistration
{
    public static IHostApplicationBuilder AddStats(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<StatsReader>();
        return builder;
    }
}

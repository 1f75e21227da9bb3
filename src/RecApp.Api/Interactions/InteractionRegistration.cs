namespace RecApp.Api.Interactions;

public static class InteractionRegistration
{
    public static IHostApplicationBuilder AddInteractions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RecApp.Data.Interactions.InteractionStore>();
        builder.Services.AddSingleton<InteractionWriter>();
        builder.Services.AddHostedService<OutageUserEviction>();
        return builder;
    }
}

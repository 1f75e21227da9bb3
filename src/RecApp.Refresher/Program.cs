using RecApp.Recommendations.Data;

namespace RecApp.Refresher;

public static class Program
{
    public static void Main(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);

        builder.AddServiceDefaults();
        builder.AddNpgsqlDataSource("recdb");
        builder.AddRedisClient("redis");
        builder.Services.AddDatabaseMigrations();

        builder.Build().Run();
    }
}

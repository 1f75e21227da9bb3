using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Engine.Domain;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Data.Source;
using RecApp.ServiceDefaults;

namespace RecApp.Tests.Foundation;

/// <summary>The source database's settings: the service contract's MAIN_DATABASE_URL, the mapping's validation, read-only sessions.</summary>
public sealed class SourceDatabaseSettingsTests
{
    private static ConfigurationManager Configuration(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(settings);
        configuration.AddContractEnvironmentNames();
        return configuration;
    }

    [Fact]
    public void MAIN_DATABASE_URL_becomes_the_maindb_connection_string()
    {
        var configuration = Configuration(new() { ["MAIN_DATABASE_URL"] = "postgresql://shop%2Dreader:p%40ss@shop.internal:6544/shop?sslmode=require" });

        var main = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString(SourceDatabaseOptions.ConnectionName));

        Assert.Equal(("shop.internal", 6544, "shop", "shop-reader", "p@ss", SslMode.Require),
            (main.Host, main.Port, main.Database, main.Username, main.Password, main.SslMode));
    }

    [Fact]
    public void The_aspire_connection_string_wins_over_MAIN_DATABASE_URL()
    {
        var configuration = Configuration(new()
        {
            ["MAIN_DATABASE_URL"] = "postgresql://u:p@ignored:5432/ignored",
            ["ConnectionStrings:maindb"] = "Host=chosen;Database=shop",
        });

        Assert.Equal("Host=chosen;Database=shop", configuration.GetConnectionString("maindb"));
    }

    [Fact]
    public void A_bad_MAIN_DATABASE_URL_fails_naming_it_without_echoing_the_password()
    {
        var configuration = Configuration(new() { ["MAIN_DATABASE_URL"] = "mysql://u:hunter2@host/shop" });

        var error = Assert.ThrowsAny<Exception>(() => configuration.GetConnectionString("maindb"));

        Assert.Contains("MAIN_DATABASE_URL", error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public void The_default_mapping_reads_the_documented_views()
    {
        var defaults = Options(new());

        Assert.Contains("FROM recapp_items", defaults.ItemsQuery);
        Assert.Contains("FROM recapp_users", defaults.UsersQuery);
        Assert.Contains("FROM recapp_interactions", defaults.InteractionsQuery);
    }

    [Theory]
    [InlineData("ItemsQuery", "")]
    [InlineData("UsersQuery", "DELETE FROM customers")]
    [InlineData("InteractionsQuery", "SELECT 1; DROP TABLE orders")]
    public void A_mapping_query_that_cannot_stand_as_a_subquery_fails_at_start_naming_the_setting(string key, string query)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Options(new() { [$"SourceDatabase:{key}"] = query }));

        Assert.Contains($"SourceDatabase:{key}", error.Message);
    }

    [Fact]
    public void A_trailing_semicolon_is_accepted()
    {
        Assert.Equal("SELECT * FROM v;", Options(new() { ["SourceDatabase:ItemsQuery"] = "SELECT * FROM v;" }).ItemsQuery);
    }

    [Fact]
    public void Sessions_of_the_source_start_read_only_and_keep_other_options()
    {
        var plain = new NpgsqlConnectionStringBuilder(DependencyClients.WithReadOnlySessions("Host=h;Database=shop"));
        var withOptions = new NpgsqlConnectionStringBuilder(
            DependencyClients.WithReadOnlySessions("Host=h;Database=shop;Options=-c search_path=shop"));

        Assert.Equal("-c default_transaction_read_only=on", plain.Options);
        Assert.Equal("-c search_path=shop -c default_transaction_read_only=on", withOptions.Options);
    }

    private static SourceDatabaseOptions Options(Dictionary<string, string?> settings)
    {
        using var provider = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .AddLogging()
            .AddSourceDatabase()
            .BuildServiceProvider();
        return provider.GetRequiredService<IOptions<SourceDatabaseOptions>>().Value;
    }
}

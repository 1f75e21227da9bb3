using BenchmarkDotNet.Running;

// Every team's benchmark classes in this assembly; pick with --filter, e.g. --filter '*Cache*'.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
